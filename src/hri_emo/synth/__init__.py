"""Speech synthesis (eSpeak NG) with exact word spans, and the spoken demo corpus built on it."""

from hri_emo.synth.espeak import Speech, synthesize

__all__ = ["Speech", "synthesize"]
