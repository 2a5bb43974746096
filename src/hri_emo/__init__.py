"""HRI-EMO: explainable audio-text emotion recognition with adaptive cross-modal fusion.

The public model API is re-exported lazily, so `import hri_emo.errors` or `hri-emo --help`
does not pay for importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY_EXPORTS = {
    "HriEmoConfig": "hri_emo.model",
    "HriEmoOutput": "hri_emo.model",
    "create_model": "hri_emo.model",
    "list_models": "hri_emo.model",
    "load_model": "hri_emo.model",
}
__all__ = ["__version__", *_LAZY_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _LAZY_EXPORTS:
        return getattr(importlib.import_module(_LAZY_EXPORTS[name]), name)
    raise AttributeError(f"module 'hri_emo' has no attribute {name!r}")
