"""`PooledReadout`: a linear read-out of each modality's mean-pooled input features.

Dimension letters: B batch, L positions, K encoder layers, D' features per layer, E emotions.

On small corpora (EmoDB: ~320 training utterances) a logistic regression on mean-pooled encoder
features beats any attention model trained from scratch on the sequences. This module gives the
model that probe as a residual path: each modality's features are layer-normalised per encoder
layer (no affine), mean-pooled over the valid positions, and read out linearly into one logit
per emotion. HriEmoModel weights the two read-outs with the item's mean beta, so the pooled
evidence also goes through the gate: beta = 1 trusts the audio summary, 0 the text summary.

Because the read-out is linear in the mean of per-position vectors, its logit splits exactly
into one share per position (`position_shares`): the pooled path stays explainable per word and
per frame.
"""

from __future__ import annotations

from torch import Tensor, nn

from hri_emo.model.layers import normalize_layers


class PooledReadout(nn.Module):
    """(B, L, K*D') features + (B, L) mask -> (B, E) logits of the pooled features."""

    def __init__(self, in_dim: int, num_layers: int, num_emotions: int, dropout: float) -> None:
        super().__init__()
        self.num_layers = num_layers
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(in_dim, num_emotions)
        nn.init.zeros_(self.linear.weight)  # starts as "no opinion": the decoder path leads
        nn.init.zeros_(self.linear.bias)

    def normalized(self, features: Tensor, mask: Tensor) -> Tensor:
        """Per-layer layer-normalised features (B, L, K*D'), zero at padded positions."""
        features = features.masked_fill(~mask[..., None], 0.0)  # padding (even NaN) never enters
        layers = normalize_layers(features, self.num_layers)  # (B, L, K, D')
        return layers.flatten(-2).masked_fill(~mask[..., None], 0.0)

    def pooled(self, features: Tensor, mask: Tensor) -> Tensor:
        """(B, K*D'): the mean of the normalised features over valid positions (the read-out's
        input; `training.readout_fit` fits the linear map on it)."""
        x = self.normalized(features, mask)
        return x.sum(dim=1) / mask.sum(dim=1, keepdim=True).clamp(min=1).to(x.dtype)

    def forward(self, features: Tensor, mask: Tensor) -> Tensor:
        return self.linear(self.dropout(self.pooled(features, mask)))  # (B, E)

    def position_shares(self, features: Tensor, mask: Tensor) -> Tensor:
        """(B, E, L): each position's exact share of the pooled logits (without the bias);
        summed over L it gives forward() - bias in eval mode."""
        x = self.normalized(features, mask)  # (B, L, KD')
        count = mask.sum(dim=1).clamp(min=1).to(x.dtype)  # (B,)
        return (x @ self.linear.weight.T).transpose(1, 2) / count[:, None, None]
