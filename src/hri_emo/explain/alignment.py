"""Is the alignment map right? How often a word's most attended audio frame falls inside the
time span in which the word was spoken, against chance.

Word spans come from the speech synthesiser (`hri_emo.synth`, exact), corpora with word timings
or ASR word timestamps; put them in `UtteranceExplanation.word_times` (one per word, None for a
word without one) or pass them as `word_spans`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hri_emo.errors import DataError
from hri_emo.result import UtteranceExplanation

Span = tuple[float, float] | None


def alignment_accuracy(
    explanations: UtteranceExplanation | Sequence[UtteranceExplanation],
    word_spans: Sequence[Sequence[Span]] | None = None,
) -> dict[str, Any]:
    """Share of words whose alignment peak (the centre of its most attended frame) lies within
    the word's spoken span, and the chance level: the share of frames whose centres lie within
    the span (what a peak on a random frame would score), averaged over the same words.

    Returns {"words", "hits", "accuracy", "chance"} (accuracy and chance are NaN when no word
    could be scored: no alignment map, or no spans). `word_spans`: one list per explanation,
    one span per word; default: each explanation's `word_times`."""
    if isinstance(explanations, UtteranceExplanation):
        explanations = [explanations]
        word_spans = None if word_spans is None else [word_spans]
    hits, chances = [], []
    for index, exp in enumerate(explanations):
        spans = exp.word_times if word_spans is None else word_spans[index]
        if exp.alignment is None or exp.frame_times is None or not spans:
            continue
        if len(spans) != len(exp.words):
            raise DataError(
                f"utterance {exp.utterance_id or index}: {len(spans)} word spans for "
                f"{len(exp.words)} words ({exp.words[:5]}...)"
            )
        centres = exp.frame_times.mean(axis=1)  # (F,)
        peaks = centres[exp.alignment.argmax(axis=1)]  # (W,)
        for peak, span in zip(peaks, spans):
            if span is None:
                continue
            start, end = span
            hits.append(start <= peak <= end)
            chances.append(float(((centres >= start) & (centres <= end)).mean()))
    return hit_rate(hits, chances, counted="words", rate="accuracy")


def hit_rate(hits: list[bool], chances: list[float], *, counted: str, rate: str) -> dict[str, Any]:
    """{counted: how many were scored, "hits", rate: the share of hits, "chance": the mean
    chance level}; the shares are NaN when nothing was scored."""
    count = len(hits)
    return {
        counted: count,
        "hits": int(np.sum(hits)),
        rate: float(np.mean(hits)) if count else float("nan"),
        "chance": float(np.mean(chances)) if count else float("nan"),
    }
