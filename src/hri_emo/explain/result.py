"""Moved to `hri_emo.result` (the bottom of the house, so inference imports it without reaching
up); this name stays for code written against the old path."""

from hri_emo.result import (  # noqa: F401
    ARRAY_FIELDS,
    ENVELOPE_HOP_S,
    UtteranceExplanation,
    attribution_axis,
    explanation_from_output,
    waveform_envelope,
)
