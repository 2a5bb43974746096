"""Inference: turn a transcript and/or a wav into emotion probabilities with explanations.

The names below are imported on first use (they import torch), so that the light modules of
this package (`asr`, `vad`) can be imported cheaply, e.g. to check options."""

from __future__ import annotations

import importlib

__all__ = ["Dialogue", "EmotionRecognizer", "FeatureSpec", "UtteranceExplanation"]
_HOMES = {
    "Dialogue": "hri_emo.inference.dialogue",
    "EmotionRecognizer": "hri_emo.inference.recognizer",
    "FeatureSpec": "hri_emo.data.features",
    "UtteranceExplanation": "hri_emo.result",
}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'hri_emo.inference' has no attribute {name!r}")
