"""Do the maps point where a person would? Plausibility measures against known answers.

- `keyword_top1`: on utterances with human rationale marks (the words that carry the emotion,
  ERASER-style), how often the top word of the predicted emotion's map is a marked word, and
  the chance level (marked words / words).
- `map_separation`: how different the predicted emotion's map is from every other emotion's:
  mean total-variation distance between the maps as distributions over positions (the positive
  part of signed contributions, the weights of attention maps); 0 = the same map for all.
- `audio_share`: how much of the predicted emotion's map lies on audio frames rather than
  words (absolute contributions, or the frame attribution's share for attention maps).

Maps are `UtteranceExplanation.attribution` (words) and `frame_attribution` (frames).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hri_emo.explain.alignment import hit_rate
from hri_emo.explain.result import UtteranceExplanation


def _predicted_row(exp: UtteranceExplanation, emotion: str | None = None) -> int | None:
    emotion = emotion or (exp.predicted[0] if exp.predicted else None)
    return None if emotion is None else exp.emotions.index(emotion)


def keyword_top1(
    explanations: Sequence[UtteranceExplanation], rationales: Sequence[Sequence[bool] | None]
) -> dict[str, Any]:
    """Share of utterances whose predicted emotion's top word is marked; only utterances with
    marks (at least one True) and a word map count. Returns {"utterances", "hits", "top1",
    "chance"}."""
    hits, chances = [], []
    for exp, marks in zip(explanations, rationales):
        row = _predicted_row(exp)
        if exp.attribution is None or row is None or not marks or not any(marks):
            continue
        if len(marks) != len(exp.words):
            continue  # words and marks do not line up (another tokenisation)
        top = int(np.argmax(exp.attribution[row]))
        hits.append(bool(marks[top]))
        chances.append(float(np.mean(marks)))
    return hit_rate(hits, chances, counted="utterances", rate="top1")


def _distribution(values: np.ndarray) -> np.ndarray:
    positive = np.clip(values, 0, None)
    total = positive.sum()
    return positive / total if total > 0 else np.full(len(values), 1.0 / len(values))


def _positions(exp: UtteranceExplanation, row: int) -> np.ndarray | None:
    parts = [m[row] for m in (exp.attribution, exp.frame_attribution) if m is not None]
    return np.concatenate(parts) if parts else None


def map_separation(explanations: Sequence[UtteranceExplanation]) -> dict[str, Any]:
    """Mean total-variation distance between the predicted emotion's map (words and frames
    together) and each other emotion's. Returns {"utterances", "separation"}."""
    distances = []
    for exp in explanations:
        row = _predicted_row(exp)
        own = None if row is None else _positions(exp, row)
        if own is None or len(exp.emotions) < 2:
            continue
        p = _distribution(own)
        for other in range(len(exp.emotions)):
            if other != row:
                q = _distribution(_positions(exp, other))
                distances.append(0.5 * float(np.abs(p - q).sum()))
    count = len(distances)
    return {
        "pairs": count,
        "separation": float(np.mean(distances)) if count else float("nan"),
    }


def audio_share(exp: UtteranceExplanation, emotion: str | None = None) -> float | None:
    """Share of the emotion's map mass (absolute values) on audio frames; None without both."""
    row = _predicted_row(exp, emotion)
    if row is None or exp.attribution is None or exp.frame_attribution is None:
        return None
    words = float(np.abs(exp.attribution[row]).sum())
    frames = float(np.abs(exp.frame_attribution[row]).sum())
    return frames / (words + frames) if words + frames > 0 else None
