"""Metrics against hand-computed examples and against scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from hri_emo.training.metrics import (
    compute_metrics,
    confusion_matrix,
    jaccard_accuracy,
    multilabel_metrics,
    roc_auc,
    singlelabel_metrics,
    unweighted_accuracy,
    weighted_accuracy,
)

EMOTIONS = ["happy", "sad", "anger"]


def test_weighted_accuracy_hand_computed():
    # P = 2 positives, N = 6 negatives; TP = 1, TN = 5 -> (1*6/2 + 5) / 12 = 8/12
    y_true = [1, 1, 0, 0, 0, 0, 0, 0]
    y_pred = [1, 0, 1, 0, 0, 0, 0, 0]
    assert weighted_accuracy(y_true, y_pred) == pytest.approx(8 / 12, abs=1e-15)


def test_weighted_accuracy_always_absent_is_one_half():
    assert weighted_accuracy([1, 0, 0, 0, 0], [0, 0, 0, 0, 0]) == 0.5


def test_weighted_accuracy_undefined_without_positives():
    assert math.isnan(weighted_accuracy([0, 0, 0], [1, 0, 0]))


def test_jaccard_hand_computed_and_empty_rows():
    y_true = np.array([[1, 1, 0], [0, 0, 0], [1, 0, 0]])
    y_pred = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 0]])
    # item 1: |{0}| / |{0,1,2}| = 1/3; item 2: empty/empty = 1; item 3: 0/2 = 0
    assert jaccard_accuracy(y_true, y_pred) == pytest.approx((1 / 3 + 1 + 0) / 3, abs=1e-15)


def test_multilabel_hand_computed():
    targets = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 0]])
    probs = np.array([[0.9, 0.2, 0.1], [0.4, 0.8, 0.3], [0.6, 0.7, 0.2], [0.1, 0.1, 0.9]])
    result = multilabel_metrics(targets, probs, EMOTIONS)
    # predictions @0.5: [[1,0,0],[0,1,0],[1,1,0],[0,0,1]]
    # happy: TP1 FP1 FN1 TN1 -> F1 = 2/4, WA = (1*2/2 + 1)/4 = 0.5
    assert result["f1/happy"] == pytest.approx(0.5)
    assert result["wa/happy"] == pytest.approx(0.5)
    # sad: TP2 FP0 FN0 TN2 -> F1 1, WA 1
    assert result["f1/sad"] == 1.0 and result["wa/sad"] == 1.0
    # anger: TP0 FP1 FN1 TN2 -> F1 0, WA = (0 + 2) / 6
    assert result["f1/anger"] == 0.0
    assert result["wa/anger"] == pytest.approx(2 / 6)
    # sums: TP 3, FP 2, FN 2 -> micro F1 = 6/10; Hamming = 4/12
    assert result["micro_f1"] == pytest.approx(0.6)
    assert result["hamming_loss"] == pytest.approx(4 / 12)
    assert result["macro_f1"] == pytest.approx(0.5)
    # Jaccard: 1, 1/2 ({0,1} vs {1}), 1/3 ({1,2} vs {0,1}), 0 (nothing true, anger predicted)
    assert result["jaccard"] == pytest.approx((1 + 1 / 2 + 1 / 3 + 0) / 4)


def test_thresholds_change_multilabel_decisions():
    targets = np.array([[1], [0], [1], [0]])
    probs = np.array([[0.3], [0.2], [0.45], [0.1]])
    assert multilabel_metrics(targets, probs, ["happy"])["f1/happy"] == 0.0
    tuned = multilabel_metrics(targets, probs, ["happy"], thresholds=[0.25])
    assert tuned["f1/happy"] == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_multilabel_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    targets = (rng.random((200, 4)) < [0.1, 0.3, 0.5, 0.05]).astype(int)
    probs = np.clip(targets * 0.3 + rng.random((200, 4)) * 0.7, 0, 1)
    thresholds = rng.uniform(0.3, 0.7, size=4)
    names = ["a", "b", "c", "d"]
    result = multilabel_metrics(targets, probs, names, thresholds)
    preds = (probs >= thresholds).astype(int)
    assert result["micro_f1"] == pytest.approx(skm.f1_score(targets, preds, average="micro"))
    assert result["macro_f1"] == pytest.approx(
        skm.f1_score(targets, preds, average="macro", zero_division=0)
    )
    assert result["hamming_loss"] == pytest.approx(skm.hamming_loss(targets, preds))
    assert result["jaccard"] == pytest.approx(
        skm.jaccard_score(targets, preds, average="samples", zero_division=1.0)
    )
    for i, name in enumerate(names):
        assert result[f"wa/{name}"] == pytest.approx(
            skm.balanced_accuracy_score(targets[:, i], preds[:, i])
        )
        assert result[f"f1/{name}"] == pytest.approx(
            skm.f1_score(targets[:, i], preds[:, i], zero_division=0)
        )
        assert result[f"auc/{name}"] == pytest.approx(skm.roc_auc_score(targets[:, i], probs[:, i]))


def test_singlelabel_hand_computed():
    classes = ["neutral", "happy", "sad"]
    targets = np.array([0, 0, 0, 1, 2])
    probs = np.eye(3)[[0, 0, 1, 1, 0]]  # predictions 0 0 1 1 0
    result = singlelabel_metrics(targets, probs, classes)
    assert result["accuracy"] == result["wa"] == pytest.approx(3 / 5)
    # recalls: neutral 2/3, happy 1/1, sad 0/1
    assert result["ua"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    # F1: neutral 2*2/(4+1+1)=2/3, happy 2/(2+1)=2/3, sad 0; support 3,1,1
    assert result["weighted_f1"] == pytest.approx((3 * 2 / 3 + 2 / 3) / 5)
    expected_matrix = [[2, 1, 0], [0, 1, 0], [1, 0, 0]]
    assert confusion_matrix(targets, probs.argmax(1), 3).tolist() == expected_matrix


def test_ua_ignores_classes_absent_from_targets():
    # class 2 never occurs in the targets but is predicted once
    assert unweighted_accuracy([0, 0, 1], [0, 2, 1], 3) == pytest.approx((1 / 2 + 1) / 2)


@pytest.mark.parametrize("seed", [0, 1])
def test_singlelabel_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    targets = rng.choice(4, size=150, p=[0.5, 0.3, 0.15, 0.05])
    logits = rng.normal(size=(150, 4)) + np.eye(4)[targets] * 1.2
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    preds = probs.argmax(1)
    result = compute_metrics("singlelabel", targets, probs, ["a", "b", "c", "d"])
    assert result["accuracy"] == pytest.approx(skm.accuracy_score(targets, preds))
    assert result["ua"] == pytest.approx(skm.balanced_accuracy_score(targets, preds))
    assert result["weighted_f1"] == pytest.approx(
        skm.f1_score(targets, preds, average="weighted", zero_division=0)
    )
    assert result["macro_f1"] == pytest.approx(
        skm.f1_score(targets, preds, average="macro", labels=range(4), zero_division=0)
    )
    assert (confusion_matrix(targets, preds, 4) == skm.confusion_matrix(targets, preds)).all()


def test_metrics_are_not_rounded():
    targets = np.array([0, 1, 2, 0, 1, 2, 0])
    probs = np.eye(3)[[0, 1, 1, 0, 2, 2, 1]]
    assert compute_metrics("singlelabel", targets, probs, ["a", "b", "c"])["accuracy"] == 4 / 7


def test_roc_auc_hand_computed_with_ties():
    # pairs (positive, negative): (0.8, 0.1) win, (0.8, 0.4) win, (0.4, 0.1) win, (0.4, 0.4) tie
    assert roc_auc([1, 1, 0, 0], [0.8, 0.4, 0.4, 0.1]) == pytest.approx(3.5 / 4, abs=1e-15)


def test_shape_mismatch_is_named():
    with pytest.raises(ValueError, match=r"probabilities \(N, 3\)"):
        compute_metrics("multilabel", np.zeros((4, 2)), np.zeros((4, 2)), EMOTIONS)
