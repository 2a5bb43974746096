"""`EmotionDecoder`: one learned query per emotion reads the fused sequence.

Dimension letters: B batch, E emotions, L fused positions, d hidden size.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from hri_emo.model.config import HriEmoConfig
from hri_emo.model.layers import FeedForward, MaskedMultiheadAttention, ResidualNorm


class EmotionDecoderLayer(nn.Module):
    """Self-attention among the emotion queries, cross-attention to the sequence, feed-forward."""

    def __init__(self, config: HriEmoConfig) -> None:
        super().__init__()
        d, heads, drop = config.hidden_dim, config.num_heads, config.dropout
        self.self_attention = MaskedMultiheadAttention(d, heads, config.attention_dropout)
        self.self_norm = ResidualNorm(d, drop)
        self.cross_attention = MaskedMultiheadAttention(d, heads, config.attention_dropout)
        self.cross_norm = ResidualNorm(d, drop)
        self.feed_forward = FeedForward(d, config.ff_mult, drop)
        self.feed_forward_norm = ResidualNorm(d, drop)

    def forward(
        self, queries: Tensor, memory: Tensor, memory_mask: Tensor
    ) -> tuple[Tensor, Tensor]:
        """queries (B, E, d), memory (B, L, d), memory_mask (B, L) -> ((B, E, d), (B, E, L))."""
        queries = self.self_norm(queries, self.self_attention(queries, queries)[0])
        context, weights = self.cross_attention(queries, memory, memory_mask, need_weights=True)
        queries = self.cross_norm(queries, context)
        return self.feed_forward_norm(queries, self.feed_forward(queries)), weights


class EmotionDecoder(nn.Module):
    """A stack of `config.num_decoder_layers` decoder layers over learned emotion queries.

    Returns per-emotion summaries z (B, E, d) and the attribution map (B, E, L): the last
    layer's emotion->position attention, which says which positions drove each emotion.
    """

    def __init__(self, config: HriEmoConfig) -> None:
        super().__init__()
        self.queries = nn.Parameter(0.02 * torch.randn(config.num_emotions, config.hidden_dim))
        self.layers = nn.ModuleList(
            EmotionDecoderLayer(config) for _ in range(config.num_decoder_layers)
        )

    def forward(self, memory: Tensor, memory_mask: Tensor) -> tuple[Tensor, Tensor]:
        queries = self.queries.expand(memory.shape[0], -1, -1)  # (B, E, d)
        attribution = None
        for layer in self.layers:
            queries, attribution = layer(queries, memory, memory_mask)
        return queries, attribution
