"""Explanations: the one result type (`UtteranceExplanation`), and what reads it."""

from hri_emo.explain.result import UtteranceExplanation, explanation_from_output

__all__ = ["UtteranceExplanation", "explanation_from_output"]
