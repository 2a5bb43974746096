"""Conversation context: the preceding turns of a dialogue, read apart from the utterance.

Dimension letters: B batch, K past turns (newest first), Dt / Da text / audio feature size,
d hidden size, E emotions.

`ContextEncoder`: each past turn is its pooled text vector, projected to d, plus a learned
embedding of how many turns back it is and one of whether the current speaker said it. With
`context_audio` the turn's pooled audio vector gets a projection of its own and is added (a turn
without audio adds nothing), so the voice of the previous turns can count as well as its words;
a turn heard but not transcribed (a laugh, a sigh: `text_mask` False) is then read from its voice
alone (its text vector is never read).

`ContextReadout`: each emotion has its own query over the K turns (a softmax of their own, so
the past never takes attention away from the utterance's words) and its own value vector,
which starts at zero: a model that has learned nothing from the past answers exactly as one
without context. Emotion i's context term is

    sum_k c_ik * (v_i . x_k)

added to its logit; each term c_ik * (v_i . x_k) is that turn's exact share
(`context_contributions`) and c_ik its weight (`context_attribution`, summing to 1 over the
turns an item has). An item without past turns (a dialogue's first) gets 0.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from hri_emo.errors import InputShapeError
from hri_emo.model.config import HriEmoConfig
from hri_emo.model.layers import ModalityProjection


class ContextEncoder(nn.Module):
    """(B, K, Dt) past-turn vectors, (B, K) mask and same-speaker flags (+ (B, K, Da) audio
    vectors and their (B, K) mask, and the (B, K) mask of the turns that have text) -> (B, K, d)."""

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
        self.audio_projection = None
        if config.context_audio:
            self.audio_projection = ModalityProjection(
                config.audio_dim,
                d,
                config.input_dropout,
                positional=False,
                num_layers=config.audio_layers,
            )

    def forward(
        self,
        context: Tensor,
        mask: Tensor,
        same_speaker: Tensor | None,
        audio: Tensor | None = None,
        audio_mask: Tensor | None = None,
        text_mask: Tensor | None = None,
    ) -> Tensor:
        if context.dim() != 3 or context.shape[1] > self.max_turns:
            raise InputShapeError(
                f"context must be (B, K <= {self.max_turns}, D) past turns (the model's "
                f"context_turns), got {tuple(context.shape)}"
            )
        worded = mask if text_mask is None else self._flags(text_mask, context) & mask
        if audio is None and bool((mask & ~worded).any()):
            raise InputShapeError(
                "context_text_mask marks past turns without text, which are read from their "
                "audio: pass context_audio too (a model trained with data.context_audio=true)"
            )
        x = self.projection(context, worded)  # (B, K, d); zero for a turn without text
        x = x + self.distance.weight[: context.shape[1]]
        if same_speaker is not None:
            x = x + self.same_speaker(same_speaker.long())
        if audio is not None:
            x = x + self._audio(audio, mask if audio_mask is None else audio_mask & mask, context)
        return x.masked_fill(~mask[..., None], 0.0)

    @staticmethod
    def _flags(flags: Tensor, context: Tensor) -> Tensor:
        if flags.shape != context.shape[:2]:
            raise InputShapeError(
                f"context_text_mask must be (B, K) = {tuple(context.shape[:2])}, "
                f"got {tuple(flags.shape)}"
            )
        return flags.bool()

    def _audio(self, audio: Tensor, mask: Tensor, context: Tensor) -> Tensor:
        """(B, K, Da) pooled audio of the past turns -> (B, K, d), 0 where a turn has none."""
        if self.audio_projection is None:
            raise InputShapeError(
                "this model reads the text of past turns only (context_audio=False); "
                "train it with data.context_audio=true to pass their audio"
            )
        if audio.dim() != 3 or audio.shape[:2] != context.shape[:2]:
            raise InputShapeError(
                f"context_audio must be (B, K, Da) with the B and K of context "
                f"{tuple(context.shape[:2])}, got {tuple(audio.shape)}"
            )
        return self.audio_projection(audio, mask)  # zero where masked


class ContextReadout(nn.Module):
    """(B, K, d) encoded turns and (B, K) mask -> ((B, E, K) shares, (B, E, K) weights)."""

    def __init__(self, config: HriEmoConfig) -> None:
        super().__init__()
        d = config.hidden_dim
        self.queries = nn.Parameter(torch.randn(config.num_emotions, d) / math.sqrt(d))
        self.keys = nn.Linear(d, d)
        self.values = nn.Parameter(torch.zeros(config.num_emotions, d))  # 0: no context yet

    def forward(self, turns: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        scores = torch.einsum("bkd,ed->bek", self.keys(turns), self.queries)
        scores = scores / math.sqrt(turns.shape[-1])
        valid = mask[:, None, :]  # (B, 1, K)
        weights = torch.softmax(scores.masked_fill(~valid, -1e9), dim=-1) * valid  # no turns: 0
        shares = weights * torch.einsum("bkd,ed->bek", turns, self.values)
        return shares, weights
