"""Plausibility measures (explain/plausibility.py) on explanations with known answers."""

from __future__ import annotations

import math

import numpy as np

from hri_emo.explain import UtteranceExplanation
from hri_emo.explain.plausibility import audio_share, keyword_top1, map_separation


def _explanation(words, attribution, frames=None, predicted="happy") -> UtteranceExplanation:
    return UtteranceExplanation(
        emotions=["happy", "sad"],
        task="singlelabel",
        probabilities={"happy": 0.7, "sad": 0.3},
        predicted=[predicted],
        words=words,
        attribution=np.asarray(attribution, dtype=float),
        frame_attribution=None if frames is None else np.asarray(frames, dtype=float),
        attribution_method="contribution",
    )


def test_keyword_top1_counts_marked_top_words_against_chance():
    words = ["i", "am", "overjoyed"]
    right = _explanation(words, [[0.1, 0.0, 2.0], [0.3, 0.1, -1.0]])
    wrong = _explanation(words, [[0.9, 0.0, 0.2], [0.0, 0.1, 0.0]])
    marks = [[False, False, True]] * 2
    result = keyword_top1([right, wrong], marks)
    assert result["utterances"] == 2 and result["hits"] == 1
    assert result["top1"] == 0.5 and math.isclose(result["chance"], 1 / 3)
    # utterances without marks, or whose words do not line up, do not count
    assert keyword_top1([right], [[False, False, False]])["utterances"] == 0
    assert keyword_top1([right], [[True, False]])["utterances"] == 0


def test_separation_is_zero_for_one_shared_row_and_high_for_distinct_rows():
    shared = _explanation(["a", "b"], [[1.0, 2.0], [1.0, 2.0]])
    distinct = _explanation(["a", "b"], [[3.0, 0.0], [0.0, 3.0]])
    assert map_separation([shared])["separation"] == 0.0
    assert map_separation([distinct])["separation"] == 1.0


def test_audio_share_reads_the_predicted_emotions_map():
    exp = _explanation(["a"], [[1.0], [0.0]], frames=[[-1.0, 2.0], [0.0, 0.0]])
    assert audio_share(exp) == 0.75  # |-1| + |2| against |1|
    assert audio_share(_explanation(["a"], [[1.0], [0.0]])) is None  # no frames
