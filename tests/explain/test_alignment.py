"""alignment_accuracy: peaks inside the spoken spans count, and chance is the spans' share."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hri_emo.errors import DataError
from hri_emo.explain import UtteranceExplanation, alignment_accuracy

TIMES = np.stack([np.arange(10) * 0.1, np.arange(1, 11) * 0.1], axis=1)  # 10 frames of 0.1 s


def explanation(peaks: list[int]) -> UtteranceExplanation:
    alignment = np.full((len(peaks), 10), 0.01)
    alignment[np.arange(len(peaks)), peaks] = 1.0
    words = [f"w{i}" for i in range(len(peaks))]
    return UtteranceExplanation(["a"], "singlelabel", {"a": 1.0}, ["a"], words=words,
                                frame_times=TIMES, alignment=alignment)  # fmt: skip


def test_peaks_inside_their_spans_and_chance():
    spans = [(0.0, 0.2), (0.2, 0.5), (0.5, 1.0)]  # 2, 3 and 5 frame centres
    exp = explanation([1, 2, 0])  # the last word peaks outside its span
    score = alignment_accuracy(exp, spans)
    assert score["words"] == 3 and score["hits"] == 2
    assert score["accuracy"] == pytest.approx(2 / 3)
    assert score["chance"] == pytest.approx((0.2 + 0.3 + 0.5) / 3)


def test_word_times_are_used_and_words_without_a_span_skipped():
    exp = explanation([0, 9])
    exp.word_times = [None, (0.9, 1.0)]
    assert alignment_accuracy([exp, explanation([3])])["hits"] == 1  # 2nd has no spans
    assert math.isnan(alignment_accuracy(explanation([3]))["accuracy"])


def test_span_count_must_match_the_words():
    with pytest.raises(DataError, match="2 word spans for 3 words"):
        alignment_accuracy(explanation([0, 1, 2]), [(0, 1), (1, 2)])
