"""Per-emotion decision thresholds tuned on the validation split (multi-label tasks).

For each emotion the threshold that maximises the chosen criterion (binary F1 or weighted
accuracy WA) on the validation probabilities is kept; it is stored in the checkpoint and applied
at evaluation (an emotion is predicted when its probability >= its threshold).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Criterion = Literal["f1", "wa"]
DEFAULT_THRESHOLD = 0.5


def decision_table(
    y_true: np.ndarray, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every distinct decision `scores >= t` on one emotion, from a single sort.

    Returns (thresholds, TP, FP), one entry per decision: "nothing predicted" (a threshold just
    above the maximum), then one per distinct score, the threshold being the midpoint to the next
    lower distinct score (the minimum itself for the lowest, "everything predicted").
    """
    order = np.argsort(-scores, kind="stable")
    ranked, truth = scores[order], y_true[order].astype(bool)
    tp_cumulative = np.cumsum(truth)
    fp_cumulative = np.cumsum(~truth)
    group_ends = np.flatnonzero(np.append(ranked[1:] != ranked[:-1], True))  # last of each value
    lower = np.append(ranked[group_ends[1:]], ranked[-1])  # next lower distinct score
    thresholds = np.concatenate(
        [[np.nextafter(ranked[0], np.inf)], (ranked[group_ends] + lower) / 2]
    )
    thresholds[-1] = ranked[-1]
    tp = np.concatenate([[0], tp_cumulative[group_ends]]).astype(np.float64)
    fp = np.concatenate([[0], fp_cumulative[group_ends]]).astype(np.float64)
    return thresholds, tp, fp


def criterion_values(
    tp: np.ndarray, fp: np.ndarray, positives: int, negatives: int, criterion: Criterion
) -> np.ndarray:
    """Binary F1 or weighted accuracy WA of decisions with counts (TP, FP), vectorised."""
    fn, tn = positives - tp, negatives - fp
    if criterion == "f1":
        denominator = 2 * tp + fp + fn
        return np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    if criterion == "wa":
        return (tp * negatives / positives + tn) / (2 * negatives)
    raise ValueError(f"unknown threshold criterion {criterion!r}: expected 'f1' or 'wa'")


def tune_threshold(y_true: np.ndarray, scores: np.ndarray, criterion: Criterion = "f1") -> float:
    """The threshold maximising `criterion` for one emotion; ties go to the one closest to 0.5.

    Returns 0.5 when the validation targets hold a single class (nothing to tune on).
    """
    y_true, scores = np.asarray(y_true), np.asarray(scores, dtype=np.float64)
    if y_true.min() == y_true.max():
        return DEFAULT_THRESHOLD
    thresholds, tp, fp = decision_table(y_true, scores)
    positives = int(np.asarray(y_true, dtype=bool).sum())
    values = criterion_values(tp, fp, positives, len(y_true) - positives, criterion)
    best = np.flatnonzero(values >= values.max() - 1e-12)
    return float(thresholds[best[np.argmin(np.abs(thresholds[best] - DEFAULT_THRESHOLD))]])


def tune_thresholds(
    targets: np.ndarray, probs: np.ndarray, criterion: Criterion = "f1"
) -> list[float]:
    """One threshold per emotion from 0/1 targets (N, E) and probabilities (N, E)."""
    targets, probs = np.asarray(targets), np.asarray(probs)
    return [tune_threshold(targets[:, e], probs[:, e], criterion) for e in range(probs.shape[1])]
