"""Explanations: the one result type (`UtteranceExplanation`), and what reads it.

`write_report` (figures, JSON maps, one HTML file), `summarize` (corpus-level analysis),
`explain_corpus` (explanations of stored corpus utterances) and `alignment_accuracy` are
imported lazily: they pull in matplotlib and the training stack, which `classify` does not need.
"""

from __future__ import annotations

import importlib
from typing import Any

from hri_emo.result import UtteranceExplanation, explanation_from_output

_LAZY = {
    "write_report": "hri_emo.explain.report",
    "summarize": "hri_emo.explain.summary",
    "explain_corpus": "hri_emo.explain.corpus",
    "alignment_accuracy": "hri_emo.explain.alignment",
}

__all__ = ["UtteranceExplanation", "explanation_from_output", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
