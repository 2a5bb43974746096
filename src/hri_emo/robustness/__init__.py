"""Robustness: corrupt one channel (noisy audio, imperfect transcripts, missing modalities) and
measure the metric and the gate's beta under it; the same corruptions for training."""

from hri_emo.robustness.conditions import Condition, default_conditions, parse_condition

__all__ = ["Condition", "default_conditions", "parse_condition"]
