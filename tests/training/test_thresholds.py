"""Per-emotion threshold tuning on validation probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from hri_emo.training.metrics import binary_f1, weighted_accuracy
from hri_emo.training.thresholds import tune_threshold, tune_thresholds


def _brute_force_best(y_true, scores, metric):
    candidates = np.concatenate([scores, scores + 1e-9, [scores.max() + 1.0]])
    return max(metric(y_true, (scores >= t).astype(int)) for t in candidates)


def test_separable_scores_give_a_perfect_threshold():
    y_true = np.array([0, 0, 0, 1, 1])
    scores = np.array([0.05, 0.1, 0.2, 0.3, 0.35])
    threshold = tune_threshold(y_true, scores, "f1")
    assert 0.2 < threshold <= 0.3
    assert threshold == pytest.approx(0.25)  # midpoint between the classes


@pytest.mark.parametrize("criterion", ["f1", "wa"])
@pytest.mark.parametrize("seed", range(5))
def test_tuned_threshold_is_optimal(criterion, seed):
    rng = np.random.default_rng(seed)
    y_true = (rng.random(60) < 0.25).astype(int)
    scores = np.round(np.clip(0.25 * y_true + rng.random(60) * 0.6, 0, 1), 2)  # with ties
    metric = binary_f1 if criterion == "f1" else weighted_accuracy
    threshold = tune_threshold(y_true, scores, criterion)
    achieved = metric(y_true, (scores >= threshold).astype(int))
    assert achieved == pytest.approx(_brute_force_best(y_true, scores, metric), abs=1e-12)


def test_criteria_can_disagree():
    # 2 rare positives (0.9, 0.2): F1 keeps precision (>= 0.9: F1 2/3, WA 0.75); WA takes
    # both positives at the cost of 6 false alarms (>= 0.2: F1 0.4, WA (1 + 12/18)/2)
    y_true = np.array([1, 1] + [0] * 18)
    scores = np.array([0.9, 0.2, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3] + [0.1] * 12)
    assert tune_threshold(y_true, scores, "f1") == pytest.approx(0.85)
    assert tune_threshold(y_true, scores, "wa") == pytest.approx(0.15)


def test_single_class_keeps_default():
    assert tune_threshold(np.zeros(5), np.linspace(0, 1, 5)) == 0.5


def test_one_threshold_per_emotion():
    targets = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    probs = np.array([[0.7, 0.2], [0.6, 0.4], [0.8, 0.45], [0.1, 0.1]])
    thresholds = tune_thresholds(targets, probs, "f1")
    assert len(thresholds) == 2
    assert 0.6 < thresholds[0] <= 0.7 and 0.1 < thresholds[1] <= 0.4


def test_unknown_criterion_is_an_error():
    with pytest.raises(ValueError, match="criterion"):
        tune_threshold(np.array([0, 1]), np.array([0.2, 0.8]), "accuracy")
