"""Per-emotion output heads and the losses of the three tasks.

Dimension letters: B batch, E emotions, d hidden size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hri_emo.model.config import HriEmoConfig


class PerEmotionLinear(nn.Module):
    """E independent linear read-outs y_i = W_i . z_i + b_i, as one (E, d) weight and (E,) bias.

    z is (B, E, d) (one summary per emotion) or (B, d) (one summary shared by all emotions,
    as in the pooled baselines).
    """

    def __init__(self, num_emotions: int, hidden_dim: int) -> None:
        super().__init__()
        bound = hidden_dim**-0.5
        self.weight = nn.Parameter(torch.empty(num_emotions, hidden_dim).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(num_emotions))

    def forward(self, z: Tensor) -> Tensor:
        if z.dim() == 2:
            return z @ self.weight.T + self.bias  # (B, E)
        return torch.einsum("bed,ed->be", z, self.weight) + self.bias  # (B, E)


class EmotionHeads(nn.Module):
    """Emotion logits, optional intensity regression, probabilities and the training loss.

    Logits are per emotion for every task: multi-label applies a sigmoid per emotion,
    single-label a softmax across emotions. Intensities are `intensity_max * sigmoid(.)`.
    """

    def __init__(self, config: HriEmoConfig) -> None:
        super().__init__()
        self.task = config.task
        self.intensity_max = config.intensity_max
        self.intensity_loss_weight = config.intensity_loss_weight
        self.classifier = PerEmotionLinear(config.num_emotions, config.hidden_dim)
        self.intensity = (
            PerEmotionLinear(config.num_emotions, config.hidden_dim)
            if config.intensity_head
            else None
        )
        # Derived from the config, so not saved with the weights.
        self._register_weights("pos_weight", config.pos_weight)
        self._register_weights("class_weights", config.class_weights)

    def _register_weights(self, name: str, values: list[float] | None) -> None:
        tensor = None if values is None else torch.tensor(values, dtype=torch.float32)
        self.register_buffer(name, tensor, persistent=False)

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor | None]:
        """z (B, E, d) or (B, d) -> (logits (B, E), intensity (B, E) | None)."""
        logits = self.classifier(z)
        if self.intensity is None:
            return logits, None
        return logits, self.intensity_max * torch.sigmoid(self.intensity(z))

    def probabilities(self, logits: Tensor) -> Tensor:
        return torch.sigmoid(logits) if self.task == "multilabel" else logits.softmax(dim=-1)

    def loss(
        self,
        logits: Tensor,
        intensity: Tensor | None,
        labels: Tensor | None,
        intensities: Tensor | None = None,
    ) -> Tensor | None:
        """Task loss (+ weighted intensity MSE when the head exists and targets are given)."""
        if labels is None:
            return None
        loss = emotion_loss(logits, labels, self.task, self.pos_weight, self.class_weights)
        if intensity is not None and intensities is not None:
            loss = loss + self.intensity_loss_weight * F.mse_loss(intensity, intensities)
        return loss


def emotion_loss(
    logits: Tensor,
    labels: Tensor,
    task: str,
    pos_weight: Tensor | None = None,
    class_weights: Tensor | None = None,
    per_item: bool = False,
) -> Tensor:
    """Multi-label BCE-with-logits on (B, E) float targets, or cross-entropy on (B,) classes;
    the batch mean, or with `per_item` each item's loss (B,) (BCE averaged over emotions)."""
    reduction = "none" if per_item else "mean"
    if task == "multilabel":
        loss = F.binary_cross_entropy_with_logits(
            logits, labels.to(logits.dtype), pos_weight=pos_weight, reduction=reduction
        )
        return loss.mean(dim=-1) if per_item else loss
    return F.cross_entropy(logits, labels, weight=class_weights, reduction=reduction)
