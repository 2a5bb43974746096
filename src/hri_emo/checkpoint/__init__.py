"""A trained model folder: its files, its reader and the run's status (below inference and
training, which both read it; training also writes it).

    from hri_emo.checkpoint import read_checkpoint
    ckpt = read_checkpoint("runs/my-run")  # a run folder (its best checkpoint) or a checkpoint
    ckpt.model, ckpt.task, ckpt.emotions, ckpt.thresholds, ckpt.features, ckpt.inputs
"""

from hri_emo.checkpoint.folder import (
    Checkpoint,
    InputSettings,
    checkpoint_dir,
    read_checkpoint,
    resolve_checkpoint,
)

__all__ = ["Checkpoint", "InputSettings", "checkpoint_dir", "read_checkpoint", "resolve_checkpoint"]
