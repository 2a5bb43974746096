"""Checkpoint folders as training writes them, read back with the run's typed config.

The folder layout and the config-free reader are `hri_emo.checkpoint` (below inference and
training); `load_checkpoint` adds the validated `ExperimentConfig` of experiment.yaml.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetensors.torch import save_file
from torch import nn

from hri_emo.checkpoint.folder import (
    BEST,
    EXPERIMENT,
    FEATURES,
    LAST,
    LIGHTNING_LAST,
    MODEL_WEIGHTS,
    NORMALIZATION,
    TEXT_ENCODER_WEIGHTS,
    Checkpoint,
    checkpoint_dir,
    create_text_encoder,
    read_checkpoint,
    resolve_checkpoint,
)
from hri_emo.data.normalization import FeatureStandardizer, save_standardizers
from hri_emo.training.config import ExperimentConfig, TextEncoderConfig, load_config, save_config

__all__ = [
    "BEST",
    "LAST",
    "LIGHTNING_LAST",
    "MODEL_WEIGHTS",
    "NORMALIZATION",
    "TEXT_ENCODER_WEIGHTS",
    "TrainedCheckpoint",
    "build_text_encoder",
    "checkpoint_dir",
    "load_checkpoint",
    "resolve_checkpoint",
    "save_checkpoint",
    "write_thresholds",
]


@dataclass(kw_only=True)
class TrainedCheckpoint(Checkpoint):
    """A checkpoint folder with the run's validated config (what evaluate and training need)."""

    config: ExperimentConfig


def save_checkpoint(
    directory: str | Path,
    model: nn.Module,
    config: ExperimentConfig,
    features: dict[str, Any],
    standardizers: dict[str, FeatureStandardizer],
    text_encoder: nn.Module | None = None,
    metrics: dict[str, Any] | None = None,
    unseen_labels: list[str] | None = None,
) -> Path:
    """Write one checkpoint folder (thresholds come later, from `write_thresholds`).
    `unseen_labels`: labels training never saw (data.allow_unseen_labels), kept in labels.json."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    if text_encoder is not None:
        state = {k: v.detach().contiguous() for k, v in text_encoder.state_dict().items()}
        save_file(state, str(directory / TEXT_ENCODER_WEIGHTS))
    save_config(config, directory / EXPERIMENT)
    labels = {"task": model.config.task, "emotions": list(model.config.emotions)}
    if unseen_labels:
        labels["unseen_in_training"] = list(unseen_labels)
    _write_json(directory / "labels.json", labels)
    _write_json(directory / FEATURES, features)
    if standardizers:
        save_standardizers(standardizers, directory / NORMALIZATION)
    _write_json(directory / "metrics.json", metrics or {})
    return directory


def write_thresholds(directory: str | Path, thresholds: list[float] | None, criterion: str) -> None:
    _write_json(
        Path(directory) / "thresholds.json", {"criterion": criterion, "thresholds": thresholds}
    )


def load_checkpoint(path: str | Path) -> TrainedCheckpoint:
    """Load a checkpoint folder (or a run folder's best checkpoint); no pickle involved."""
    directory = resolve_checkpoint(path)
    config = load_config(directory / EXPERIMENT)  # validated first, as its errors say most
    ckpt = read_checkpoint(directory)
    return TrainedCheckpoint(**vars(ckpt), config=config)


def build_text_encoder(config: TextEncoderConfig) -> nn.Module:
    """The trainable text encoder named by the config (embedded MiniLM by default)."""
    return create_text_encoder(config.name, config.params)


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, allow_nan=True) + "\n")
