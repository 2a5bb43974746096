"""`BetaGate`: how much to trust audio versus text, per word and per hidden dimension."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class BetaGate(nn.Module):
    """beta = sigmoid(W [a_ctx ; t] + b) in [0,1]^d;  h = beta * a_ctx + (1 - beta) * t.

    a_ctx (B, L, d) is the audio context of each text position, t (B, L, d) the text
    representation. beta = 1 means audio is trusted, 0 means text is trusted. Items without
    text get beta = 1 exactly and items without audio beta = 0 exactly, so the fused sequence
    then comes from the present modality alone. Padded positions (mask False) get beta = 0.
    """

    def __init__(self, hidden_dim: int) -> None:
        super().__init__()
        self.gate = nn.Linear(2 * hidden_dim, hidden_dim)

    def forward(
        self,
        audio_context: Tensor,
        text: Tensor,
        mask: Tensor,
        has_text: Tensor,
        has_audio: Tensor,
        *,
        force: float | None = None,
        reliability: Tensor | None = None,
        text_reliability: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Return (fused h (B, L, d), beta (B, L, d)); masks: (B, L), has_*: (B,) bool.
        `force`: beta = this value wherever both modalities are present (training's forced
        branches, model/gate_supervision.py). `reliability` (B, L) in [0, 1]: how far each
        position's audio may be trusted (model/reliability.py); beta is scaled by it.
        `text_reliability` (B,) in [0, 1]: how complete each item's transcript is; the text's
        share shrinks with it, 1 - beta -> tau * (1 - beta) (tau = 1: the gate as it is)."""
        beta = torch.sigmoid(self.gate(torch.cat([audio_context, text], dim=-1)))  # (B, L, d)
        if text_reliability is not None:
            beta = 1.0 - text_reliability[:, None, None] * (1.0 - beta)
        if reliability is not None:
            beta = beta * reliability[..., None]
        if force is not None:
            beta = torch.full_like(beta, force)
        beta = torch.where(~has_text[:, None, None], torch.ones_like(beta), beta)
        beta = torch.where(~has_audio[:, None, None], torch.zeros_like(beta), beta)
        beta = beta.masked_fill(~mask[..., None], 0.0)
        fused = beta * audio_context + (1.0 - beta) * text  # (B, L, d)
        return fused, beta
