"""Evaluation figures: confusion matrix (single-label) and per-emotion PR curves (multi-label).

Figures are drawn on `matplotlib.figure.Figure` objects (no pyplot, no global backend change),
so they work headless and inside servers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay


def plot_confusion_matrix(
    matrix: np.ndarray, classes: Sequence[str], path: str | Path, title: str = ""
) -> Path:
    """Counts with row-normalised colours (recall per true class); rows true, columns predicted."""
    matrix = np.asarray(matrix)
    size = max(4.0, 0.9 * len(classes) + 2.0)
    figure = Figure(figsize=(size, size * 0.85), layout="constrained")
    axes = figure.add_subplot()
    display = ConfusionMatrixDisplay(matrix, display_labels=list(classes))
    display.plot(ax=axes, cmap="Blues", colorbar=False, values_format="d")
    axes.set_title(title or "confusion matrix (rows: true, columns: predicted)")
    figure.savefig(path, dpi=120)
    return Path(path)


def plot_pr_curves(
    targets: np.ndarray,
    probs: np.ndarray,
    emotions: Sequence[str],
    path: str | Path,
    thresholds: Sequence[float] | None = None,
) -> Path:
    """One precision-recall curve per emotion; a dot marks the operating point of its threshold."""
    columns = min(3, len(emotions))
    rows = math.ceil(len(emotions) / columns)
    figure = Figure(figsize=(4.2 * columns, 3.6 * rows), layout="constrained")
    for index, emotion in enumerate(emotions):
        axes = figure.add_subplot(rows, columns, index + 1)
        truth, score = targets[:, index].astype(int), probs[:, index]
        if truth.min() == truth.max():
            axes.set_title(f"{emotion}: one class only")
            continue
        PrecisionRecallDisplay.from_predictions(truth, score, ax=axes, name=emotion)
        limit = 0.5 if thresholds is None else thresholds[index]
        predicted = score >= limit
        if predicted.any():
            precision = (truth[predicted] == 1).mean()
            recall = predicted[truth == 1].mean()
            axes.plot([recall], [precision], "o", color="crimson", label=f"threshold {limit:.2f}")
        axes.set_title(f"{emotion} (positives {int(truth.sum())}/{len(truth)})")
        axes.legend(loc="lower left", fontsize="small")
    figure.savefig(path, dpi=110)
    return Path(path)
