"""Emotion-recognition metrics with the exact definitions of docs/metrics.md.

Every function takes whole-split arrays (targets and probabilities) and returns unrounded Python
floats: torchmetrics counts (stat scores, confusion matrices) as exact integers and the formulas
below turn them into float64 values (torchmetrics' own ratios are float32).
Names: N items, E emotions (= K classes for single-label tasks).

- Multi-label (CMU-MOSEI): per emotion weighted accuracy WA = (TP·N/P + TN) / (2N), F1 and
  ROC-AUC; sample-wise Jaccard accuracy, micro and macro F1, Hamming loss.
- Single-label (IEMOCAP, MOSI): WA (= overall accuracy), UA (mean recall over the classes that
  occur in the targets), weighted and macro F1, confusion matrix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from scipy.stats import rankdata
from torchmetrics.functional.classification import binary_stat_scores, multiclass_confusion_matrix

from hri_emo.errors import InputShapeError
from hri_emo.model.decision import ArrayLike, multilabel_predictions, predictions
from hri_emo.model.decision import as_tensor as _as_tensor

__all__ = ["multilabel_predictions", "predictions"]  # the decision rule lives in model/


def _binary_counts(y_true: torch.Tensor, y_pred: torch.Tensor) -> tuple[int, int, int, int]:
    """(TP, FP, TN, FN) of 0/1 vectors (exact integers)."""
    tp, fp, tn, fn, _ = binary_stat_scores(y_pred.long(), y_true.long()).tolist()
    return tp, fp, tn, fn


def _f1_from_counts(tp: int, fp: int, fn: int) -> float:
    denominator = 2 * tp + fp + fn
    return 2 * tp / denominator if denominator else 0.0


def weighted_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """WA = (TP·N/P + TN) / (2N) of one binary label (= the mean of TPR and TNR).

    P and N are the numbers of positive and negative targets. NaN when P or N is zero: the
    formula is undefined for a label that never (or always) occurs.
    """
    truth, pred = _as_tensor(y_true, torch.long), _as_tensor(y_pred, torch.long)
    tp, _, tn, fn = _binary_counts(truth, pred)
    positives, negatives = tp + fn, len(truth) - (tp + fn)
    if positives == 0 or negatives == 0:
        return math.nan
    return (tp * negatives / positives + tn) / (2 * negatives)


def binary_f1(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """F1 = 2TP / (2TP + FP + FN) of one binary label; 0 when the label never occurs and is
    never predicted (scikit-learn's default)."""
    tp, fp, _, fn = _binary_counts(_as_tensor(y_true, torch.long), _as_tensor(y_pred, torch.long))
    return _f1_from_counts(tp, fp, fn)


def roc_auc(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve of one binary label; NaN with a single class.

    Computed exactly as the Mann-Whitney statistic: (R+ − P(P+1)/2) / (P·N), R+ being the sum of
    the positives' ranks among all scores (ties get their average rank).
    """
    truth = np.asarray(_as_tensor(y_true, torch.long)).astype(bool)
    score = np.asarray(_as_tensor(scores, torch.float64))
    positives, negatives = int(truth.sum()), int((~truth).sum())
    if positives == 0 or negatives == 0:
        return math.nan
    rank_sum = float(rankdata(score)[truth].sum())
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def jaccard_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Sample-wise Jaccard: mean over items of |T ∩ P| / |T ∪ P|; an item with no true and no
    predicted emotion counts 1 (a correct "none")."""
    truth, pred = _as_tensor(y_true, torch.bool), _as_tensor(y_pred, torch.bool)
    intersection = (truth & pred).sum(dim=1).double()  # (N,)
    union = (truth | pred).sum(dim=1).double()  # (N,)
    per_item = torch.where(union > 0, intersection / union.clamp(min=1), torch.ones_like(union))
    return float(per_item.mean())


def multilabel_metrics(
    targets: ArrayLike,
    probs: ArrayLike,
    emotions: Sequence[str],
    thresholds: ArrayLike | None = None,
) -> dict[str, float]:
    """All multi-label metrics from 0/1 targets (N, E) and probabilities (N, E)."""
    truth = _as_tensor(targets, torch.long)
    prob = _as_tensor(probs, torch.float64)
    _check_shapes(truth, prob, len(emotions), multilabel=True)
    pred = multilabel_predictions(prob, thresholds)
    counts = [_binary_counts(truth[:, i], pred[:, i]) for i in range(len(emotions))]
    tp, fp, _, fn = (sum(column) for column in zip(*counts))
    result = {
        "jaccard": jaccard_accuracy(truth, pred),
        "micro_f1": _f1_from_counts(tp, fp, fn),
        "macro_f1": float(np.mean([_f1_from_counts(c[0], c[1], c[3]) for c in counts])),
        "hamming_loss": (fp + fn) / truth.numel(),
    }
    per_emotion = {"wa": [], "f1": [], "auc": []}
    for i, emotion in enumerate(emotions):
        values = {
            "wa": weighted_accuracy(truth[:, i], pred[:, i]),
            "f1": binary_f1(truth[:, i], pred[:, i]),
            "auc": roc_auc(truth[:, i], prob[:, i]),
        }
        for name, value in values.items():
            result[f"{name}/{emotion}"] = value
            per_emotion[name].append(value)
    result["wa_mean"] = _nanmean(per_emotion["wa"])
    result["auc_mean"] = _nanmean(per_emotion["auc"])
    return result


def confusion_matrix(targets: ArrayLike, preds: ArrayLike, num_classes: int) -> np.ndarray:
    """Counts (K, K): row = true class, column = predicted class."""
    truth, pred = _as_tensor(targets, torch.long), _as_tensor(preds, torch.long)
    return multiclass_confusion_matrix(pred, truth, num_classes).numpy()


def unweighted_accuracy(targets: ArrayLike, preds: ArrayLike, num_classes: int) -> float:
    """UA: mean recall TP_k / (TP_k + FN_k) over the classes that occur in the targets."""
    counts = confusion_matrix(targets, preds, num_classes).astype(np.float64)
    support = counts.sum(axis=1)
    present = support > 0
    return float((np.diag(counts)[present] / support[present]).mean())


def singlelabel_metrics(
    targets: ArrayLike, probs: ArrayLike, classes: Sequence[str]
) -> dict[str, float]:
    """All single-label metrics from class indices (N,) and probabilities (N, K) (argmax)."""
    truth = _as_tensor(targets, torch.long)
    prob = _as_tensor(probs, torch.float64)
    _check_shapes(truth, prob, len(classes), multilabel=False)
    pred = prob.argmax(dim=1)
    counts = confusion_matrix(truth, pred, len(classes)).astype(np.int64)
    tp = np.diag(counts)
    support, predicted = counts.sum(axis=1), counts.sum(axis=0)
    per_class_f1 = [
        _f1_from_counts(int(t), int(p - t), int(s - t)) for t, p, s in zip(tp, predicted, support)
    ]
    accuracy = int(tp.sum()) / len(truth)
    result = {
        "accuracy": accuracy,
        "wa": accuracy,
        "ua": unweighted_accuracy(truth, pred, len(classes)),
        "weighted_f1": float(np.dot(per_class_f1, support) / support.sum()),
        "macro_f1": float(np.mean(per_class_f1)),
    }
    for name, value in zip(classes, per_class_f1):
        result[f"f1/{name}"] = value
    return result


def compute_metrics(
    task: str,
    targets: ArrayLike,
    probs: ArrayLike,
    emotions: Sequence[str],
    thresholds: ArrayLike | None = None,
) -> dict[str, float]:
    """Metrics of one split for `task` ("multilabel" or "singlelabel").

    `thresholds` (one per emotion) apply to multi-label tasks only; single-label predictions are
    the arg-max class.
    """
    if task == "multilabel":
        return multilabel_metrics(targets, probs, emotions, thresholds)
    if task == "singlelabel":
        return singlelabel_metrics(targets, probs, emotions)
    raise ValueError(f"unknown task {task!r}: expected 'multilabel' or 'singlelabel'")


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def _check_shapes(truth: torch.Tensor, prob: torch.Tensor, num: int, multilabel: bool) -> None:
    expected_truth = (len(prob), num) if multilabel else (len(prob),)
    if prob.ndim != 2 or prob.shape[1] != num or tuple(truth.shape) != expected_truth:
        raise InputShapeError(
            f"metrics: expected probabilities (N, {num}) and targets {expected_truth}, "
            f"got probabilities {tuple(prob.shape)} and targets {tuple(truth.shape)}"
        )
