"""The additive read-out: each logit is a sum over positions, so its maps are exact.

    logit_i = sum_j a_ij * (w_i . h_j) + b_i

a_ij is emotion i's attention on fused position j (the decoder's last layer, averaged over
heads), h_j the fused state of word j, w_i and b_i emotion i's head. The
decoder's layers shape *where* each emotion looks; what it finds there is read linearly, so the
contribution a_ij * (w_i . h_j) of every position is part of the computation, not a proxy.

In the v2 fusion (no audio residual) h_j = beta_j * a_ctx_j + (1 - beta_j) * t_j, and a_ctx_j is
the text->audio attention output, linear in the audio values. So every logit splits exactly into

    words   (B, E, Lt): a_ij * w_i . ((1 - beta_j) * t_j)            what the words said
    frames  (B, E, La): sum_j a_ij sum_h A_h[j, k] (w_i * beta_j) . U_h[k]   what the voice said
    bias    (B, E)    : b_i + sum_j a_ij (w_i * beta_j) . out_bias      no position's doing

with A_h the alignment of head h and U_h[k] frame k's value through head h (attention
`head_values`). Dimension letters: B batch, Lt words, La frames, K turns, E emotions, H heads.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from hri_emo.model.heads import PerEmotionLinear
from hri_emo.model.layers import MaskedMultiheadAttention


@dataclass
class Contributions:
    """Exact parts of each logit; words + frames + context + bias sum to the logits (the
    context's parts come from model/context.py's ContextReadout)."""

    words: Tensor  # (B, E, Lt)
    frames: Tensor  # (B, E, La)
    bias: Tensor  # (B, E)
    context: Tensor | None = None  # (B, E, K)

    @classmethod
    def zeros(cls, logits: Tensor, text: Tensor, audio: Tensor) -> Contributions:
        """No part anywhere: (B, E) logits, (B, Lt, d) words and (B, La, d) frames give shapes."""
        batch, emotions = logits.shape
        words = logits.new_zeros(batch, emotions, text.shape[1])
        return cls(
            words, logits.new_zeros(batch, emotions, audio.shape[1]), torch.zeros_like(logits)
        )

    def total(self) -> Tensor:
        """(B, E): the logits these parts add up to."""
        parts = self.words.sum(-1) + self.frames.sum(-1) + self.bias
        return parts if self.context is None else parts + self.context.sum(-1)


def additive_logits(attention: Tensor, memory: Tensor, head: PerEmotionLinear) -> Tensor:
    """(B, E, L) attention and (B, L, d) fused positions -> (B, E) logits."""
    pooled = attention @ memory  # (B, E, d): each emotion's attention-weighted state
    return (pooled * head.weight).sum(-1) + head.bias


def split_contributions(
    attention: Tensor,
    text: Tensor,
    beta: Tensor,
    head_alignment: Tensor,
    cross_attention: MaskedMultiheadAttention,
    audio: Tensor,
    head: PerEmotionLinear,
) -> Contributions:
    """The exact split of `additive_logits` (see the module docstring)."""
    a_words = attention  # (B, E, Lt)
    w = head.weight  # (E, d)
    words = a_words * torch.einsum("bld,ed->bel", (1.0 - beta) * text, w)
    gated = w[None, :, None, :] * beta[:, None]  # (B, E, Lt, d): w_i * beta_j
    values = cross_attention.head_values(audio)  # (B, H, La, d)
    per_head = torch.einsum("beld,bhkd->behlk", gated, values)  # (B, E, H, Lt, La)
    per_word = (per_head * head_alignment[:, None]).sum(dim=2)  # (B, E, Lt, La)
    frames = (a_words[..., None] * per_word).sum(dim=2)  # (B, E, La)
    # HriEmoModel gives every item a valid audio key (a placeholder), so no output is zeroed
    out_bias = torch.einsum("beld,d->bel", gated, cross_attention.out_proj.bias)
    bias = head.bias + (a_words * out_bias).sum(-1)
    return Contributions(words, frames, bias)
