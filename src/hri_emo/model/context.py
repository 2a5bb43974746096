"""`ContextEncoder`: the preceding turns of a dialogue as extra positions for the emotion queries.

Dimension letters: B batch, K past turns (newest first), Dt text feature size, d hidden size.
Each past turn is its pooled text vector, projected to d, plus a learned embedding of how many
turns back it is and one of whether the current speaker said it. The EmotionDecoder attends to
these K positions beside the utterance's own fused positions, so its attention also says which
previous turns drove each emotion (`HriEmoOutput.context_attribution`).
"""

from __future__ import annotations

from torch import Tensor, nn

from hri_emo.errors import InputShapeError
from hri_emo.model.config import HriEmoConfig
from hri_emo.model.layers import ModalityProjection


class ContextEncoder(nn.Module):
    """(B, K, Dt) past-turn vectors, (B, K) mask and same-speaker flags -> (B, K, d)."""

    def __init__(self, config: HriEmoConfig) -> None:
        super().__init__()
        d = config.hidden_dim
        self.max_turns = config.context_turns
        self.projection = ModalityProjection(
            config.text_dim,
            d,
            config.input_dropout,
            positional=False,
            num_layers=config.text_layers,
        )
        self.distance = nn.Embedding(config.context_turns, d)  # row i: i + 1 turns back
        self.same_speaker = nn.Embedding(2, d)

    def forward(self, context: Tensor, mask: Tensor, same_speaker: Tensor | None) -> Tensor:
        if context.dim() != 3 or context.shape[1] > self.max_turns:
            raise InputShapeError(
                f"context must be (B, K <= {self.max_turns}, D) past turns (the model's "
                f"context_turns), got {tuple(context.shape)}"
            )
        x = self.projection(context, mask)  # (B, K, d)
        x = x + self.distance.weight[: context.shape[1]]
        if same_speaker is not None:
            x = x + self.same_speaker(same_speaker.long())
        return x.masked_fill(~mask[..., None], 0.0)
