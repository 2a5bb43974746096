"""Speech synthesis (eSpeak NG) with exact word spans, and a voice-like test tone."""

from hri_emo.synth.espeak import Speech, synthesize
from hri_emo.synth.tone import synthetic_voice

__all__ = ["Speech", "synthesize", "synthetic_voice"]
