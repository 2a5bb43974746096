"""The decision per emotion: from a model's probabilities to what it predicts.

Multi-label: emotion e is predicted when its probability reaches its threshold (0.5 without
stored thresholds); single-label: the most probable class. The recognizer, `hri-emo evaluate`
and the training metrics all decide with `predictions`, so they agree item for item.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from hri_emo.errors import InputShapeError

ArrayLike = np.ndarray | torch.Tensor | Sequence


def as_tensor(values: ArrayLike, dtype: torch.dtype) -> torch.Tensor:
    """`values` (array, tensor or nested sequence) as a detached CPU tensor of `dtype`."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().to(dtype)
    return torch.as_tensor(np.asarray(values), dtype=dtype)


def multilabel_predictions(probs: ArrayLike, thresholds: ArrayLike | None = None) -> torch.Tensor:
    """0/1 predictions (N, E): emotion e is predicted when probs[:, e] >= thresholds[e]."""
    prob = as_tensor(probs, torch.float64)
    if thresholds is None:
        return (prob >= 0.5).long()
    limit = as_tensor(thresholds, torch.float64)
    if limit.shape != prob.shape[1:]:
        raise InputShapeError(
            f"thresholds: expected {prob.shape[1]} values (one per emotion), "
            f"got shape {tuple(limit.shape)}"
        )
    return (prob >= limit).long()


def predictions(task: str, probs: ArrayLike, thresholds: ArrayLike | None = None) -> np.ndarray:
    """Decisions from probabilities: 0/1 (N, E) for multi-label, class indices (N,) otherwise."""
    if task == "multilabel":
        return multilabel_predictions(probs, thresholds).numpy()
    return as_tensor(probs, torch.float64).argmax(dim=1).numpy()
