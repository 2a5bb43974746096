"""Building blocks shared by every model: input projection, masked attention, feed-forward.

Dimension letters: B batch, L sequence length (Lq queries, Lk keys), D input feature size,
d hidden size, H attention heads. Masks are bool with True = real position.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def sinusoidal_positions(length: int, dim: int) -> Tensor:
    """The fixed sine/cosine position table of "Attention Is All You Need"; (length, dim)."""
    position = torch.arange(length, dtype=torch.float32)[:, None]  # (L, 1)
    rates = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(position * rates)
    table[:, 1::2] = torch.cos(position * rates[: dim // 2])
    return table


def normalize_layers(features: Tensor, num_layers: int) -> Tensor:
    """(..., K*D') stacked encoder layers -> (..., K, D'), each layer layer-normalised without
    affine (hidden states of different depths have very different scales)."""
    layers = features.unflatten(-1, (num_layers, features.shape[-1] // num_layers))
    return F.layer_norm(layers, layers.shape[-1:])


class LayerMix(nn.Module):
    """Learned weighted sum of an encoder's layers (ELMo's scalar mix).

    Input (B, L, K*D'): K layers stored layer-major in the feature dimension, as feature stores
    keep `layer="all"` extractions. Each layer is layer-normalised (no affine: hidden states of
    different depths have very different scales), then mixed with softmax(w) and scaled by gamma.
    The weights start equal; `layer_weights` shows what training chose.
    """

    def __init__(self, num_layers: int, in_dim: int) -> None:
        super().__init__()
        self.num_layers = num_layers
        self.logits = nn.Parameter(torch.zeros(num_layers))
        self.gamma = nn.Parameter(torch.ones(1))

    @property
    def layer_weights(self) -> Tensor:
        return torch.softmax(self.logits, dim=0)

    def forward(self, features: Tensor) -> Tensor:
        layers = normalize_layers(features, self.num_layers)  # (B, L, K, D')
        return self.gamma * torch.einsum("blkd,k->bld", layers, self.layer_weights)


class ModalityProjection(nn.Module):
    """Project one modality to the hidden size: Linear + LayerNorm (+ positions) + dropout.

    Padded positions are zeroed before the projection, so padding values (even huge or NaN)
    never reach the network, and zeroed again after it. A 2-D input (B, D) is a length-1 sequence.
    With `num_layers` > 1 the input holds that many encoder layers and a `LayerMix` combines
    them first.
    """

    def __init__(
        self,
        in_dim: int,
        hidden_dim: int,
        dropout: float = 0.0,
        positional: bool = True,
        num_layers: int = 1,
    ) -> None:
        super().__init__()
        self.layer_mix = LayerMix(num_layers, in_dim) if num_layers > 1 else None
        self.linear = nn.Linear(in_dim // num_layers, hidden_dim)
        self.norm = nn.LayerNorm(hidden_dim)
        self.dropout = nn.Dropout(dropout)
        self.positional = positional
        # Grown on demand; derived, so not saved with the weights.
        self.register_buffer("positions", sinusoidal_positions(512, hidden_dim), persistent=False)

    def _position_table(self, length: int) -> Tensor:
        if length > self.positions.shape[0]:
            table = sinusoidal_positions(2 * length, self.positions.shape[1])
            self.positions = table.to(self.positions.device)
        return self.positions[:length]  # (L, d)

    def forward(self, features: Tensor, mask: Tensor | None = None) -> Tensor:
        if features.dim() == 2:
            features = features[:, None, :]  # (B, 1, D)
        if mask is None:
            mask = torch.ones(features.shape[:2], dtype=torch.bool, device=features.device)
        valid = mask[..., None]  # (B, L, 1)
        features = features.masked_fill(~valid, 0.0)
        if self.layer_mix is not None:
            features = self.layer_mix(features)  # (B, L, D')
        x = self.norm(self.linear(features))  # (B, L, d)
        if self.positional:
            x = x + self._position_table(x.shape[1]).to(x.dtype)
        return self.dropout(x).masked_fill(~valid, 0.0)


class MaskedMultiheadAttention(nn.Module):
    """Multi-head attention with a key-padding mask that is safe when every key is masked.

    forward(query (B, Lq, d), key (B, Lk, d), key_mask (B, Lk) | None, need_weights, bias)
    returns (output (B, Lq, d), weights (B, Lq, Lk) averaged over heads, or None). Weights are
    exactly 0 on masked keys and sum to 1 over the valid ones; a batch item with no valid key
    gets zero weights and a zero output (never NaN). Without weights the fused
    `scaled_dot_product_attention` kernel is used. `bias` (B, Lq, Lk) is added to the scores
    (a log-prior, e.g. the time prior of model/time_prior.py). `need_weights="heads"` returns
    the per-head weights (B, H, Lq, Lk) instead of their mean.

    The output is linear in the values: output = sum_h weights_h @ head_values(key)[:, h] +
    out_proj.bias, which `head_values` exposes for exact per-key attributions.
    """

    def __init__(self, dim: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"hidden size {dim} is not a multiple of num_heads={num_heads}")
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.dropout = dropout
        self.query_proj = nn.Linear(dim, dim)
        self.key_value_proj = nn.Linear(dim, 2 * dim)
        self.out_proj = nn.Linear(dim, dim)

    def _split_heads(self, x: Tensor) -> Tensor:
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)  # (B,H,L,dh)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        key_mask: Tensor | None = None,
        need_weights: bool | str = False,
        bias: Tensor | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        batch, num_queries, dim = query.shape
        q = self._split_heads(self.query_proj(query))  # (B, H, Lq, dh)
        k, v = (self._split_heads(x) for x in self.key_value_proj(key).chunk(2, dim=-1))
        has_key = None
        allowed = None  # (B, 1, 1, Lk): keys a query may attend to
        if key_mask is not None:
            has_key = key_mask.any(dim=-1)  # (B,)
            # An item without valid keys attends to all of them; its result is zeroed below.
            allowed = (key_mask | ~has_key[:, None])[:, None, None, :]
        dropout = self.dropout if self.training else 0.0
        weights = None
        if need_weights or bias is not None:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)  # (B, H, Lq, Lk)
            if bias is not None:
                scores = scores + bias[:, None]
            if allowed is not None:
                scores = scores.masked_fill(~allowed, float("-inf"))
            probs = scores.softmax(dim=-1)
            context = F.dropout(probs, dropout, self.training) @ v  # (B, H, Lq, dh)
            if need_weights:
                weights = probs if need_weights == "heads" else probs.mean(dim=1)
        else:
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=dropout)
        output = self.out_proj(context.transpose(1, 2).reshape(batch, num_queries, dim))
        if has_key is not None:
            output = output * has_key[:, None, None]
            if weights is not None:
                weights = weights * has_key.view(-1, *[1] * (weights.dim() - 1))
        return output, weights

    def head_values(self, key: Tensor) -> Tensor:
        """(B, H, Lk, d): each key's value through each head's slice of the output projection,
        so that output = sum_h weights_h @ head_values[:, h] + out_proj.bias exactly."""
        value = self.key_value_proj(key).chunk(2, dim=-1)[1]  # (B, Lk, d)
        v = self._split_heads(value)  # (B, H, Lk, dh)
        w = self.out_proj.weight.view(-1, self.num_heads, self.head_dim)  # (d, H, dh)
        return torch.einsum("bhkc,dhc->bhkd", v, w)


class FeedForward(nn.Module):
    """Position-wise Linear-GELU-Dropout-Linear."""

    def __init__(self, dim: int, mult: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim, mult * dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(mult * dim, dim)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class ResidualNorm(nn.Module):
    """Post-norm residual: LayerNorm(x + dropout(update))."""

    def __init__(self, dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: Tensor, update: Tensor) -> Tensor:
        return self.norm(x + self.dropout(update))


class SelfAttentionLayer(nn.Module):
    """A post-norm Transformer encoder layer with a key-padding mask (used by the baselines)."""

    def __init__(self, dim: int, num_heads: int, ff_mult: int, dropout: float, attn_dropout: float):
        super().__init__()
        self.attention = MaskedMultiheadAttention(dim, num_heads, attn_dropout)
        self.attention_norm = ResidualNorm(dim, dropout)
        self.feed_forward = FeedForward(dim, ff_mult, dropout)
        self.feed_forward_norm = ResidualNorm(dim, dropout)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        x = self.attention_norm(x, self.attention(x, x, mask)[0])  # (B, L, d)
        return self.feed_forward_norm(x, self.feed_forward(x))


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean of (B, L, d) over the valid positions of (B, L) -> (B, d); zeros where none is valid."""
    total = x.masked_fill(~mask[..., None], 0.0).sum(dim=1)  # (B, d)
    count = mask.sum(dim=1, keepdim=True).clamp(min=1).to(x.dtype)  # (B, 1)
    return total / count
