"""Inference: turn a transcript and/or a wav into emotion probabilities with explanations."""

from hri_emo.inference.features import FeatureSpec
from hri_emo.inference.recognizer import EmotionRecognizer
from hri_emo.result import UtteranceExplanation

__all__ = ["EmotionRecognizer", "FeatureSpec", "UtteranceExplanation"]
