"""A trained model folder: its files, its reader and the run's status (below inference and
training, which both read it; training also writes it).

    from hri_emo.checkpoint import read_checkpoint
    ckpt = read_checkpoint("runs/my-run")  # a run folder (its best checkpoint) or a checkpoint
    ckpt.model, ckpt.task, ckpt.emotions, ckpt.thresholds, ckpt.features, ckpt.inputs

The exports are imported lazily, so `hri_emo.checkpoint.run_status` (the server's process
supervisor reads it) does not load torch.
"""

from __future__ import annotations

import importlib
from typing import Any

FOLDER = ("Checkpoint", "InputSettings", "checkpoint_dir", "read_checkpoint", "resolve_checkpoint")
_LAZY_EXPORTS = dict.fromkeys(FOLDER, "hri_emo.checkpoint.folder")
__all__ = list(_LAZY_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _LAZY_EXPORTS:
        return getattr(importlib.import_module(_LAZY_EXPORTS[name]), name)
    raise AttributeError(f"module 'hri_emo.checkpoint' has no attribute {name!r}")
