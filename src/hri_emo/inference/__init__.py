"""Inference: turn a transcript and/or a wav into emotion probabilities with explanations."""

from hri_emo.inference.dialogue import Dialogue
from hri_emo.inference.features import FeatureSpec
from hri_emo.inference.recognizer import EmotionRecognizer
from hri_emo.result import UtteranceExplanation

__all__ = ["Dialogue", "EmotionRecognizer", "FeatureSpec", "UtteranceExplanation"]
