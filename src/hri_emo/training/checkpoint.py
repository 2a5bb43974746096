"""Checkpoint folders that `hri-emo evaluate` loads without pickle.

A run folder holds `checkpoints/best/` and `checkpoints/last/`, each::

    model.safetensors, config.json   the fusion model (model.save_pretrained / load_model)
    text_encoder.safetensors         the fine-tuned text encoder (only when fine-tuning)
    experiment.yaml                  the resolved ExperimentConfig of the run
    labels.json                      task and label set (emotions or classes, in logit order)
    features.json                    FeatureMetadata of the text/audio features it was trained on
    thresholds.json                  per-emotion decision thresholds tuned on validation
    normalization.safetensors        feature standardisation statistics (when used)
    metrics.json                     validation metrics of these weights, epoch and step

plus Lightning's `checkpoints/last.ckpt` (optimizer, scheduler and loop state, a pickle) used
only to resume training exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetensors.torch import save_file
from torch import nn

from hri_emo.errors import ConfigError, DataError
from hri_emo.model import load_model
from hri_emo.model.saved_files import check_files_agree, load_state_dict, read_json
from hri_emo.training.config import ExperimentConfig, TextEncoderConfig, load_config, save_config
from hri_emo.training.normalization import (
    FeatureStandardizer,
    load_standardizers,
    save_standardizers,
)
from hri_emo.training.run_status import describe_unfinished, warn_if_unfinished

BEST, LAST = "best", "last"
LIGHTNING_LAST = "last.ckpt"
MODEL_WEIGHTS = "model.safetensors"
TEXT_ENCODER_WEIGHTS = "text_encoder.safetensors"
NORMALIZATION = "normalization.safetensors"


@dataclass
class TrainedCheckpoint:
    """Everything `evaluate` needs from one checkpoint folder."""

    directory: Path
    model: nn.Module
    config: ExperimentConfig
    task: str
    emotions: list[str]
    thresholds: list[float] | None
    features: dict[str, Any]
    standardizers: dict[str, FeatureStandardizer] = field(default_factory=dict)
    text_encoder: nn.Module | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    unseen_labels: list[str] = field(default_factory=list)  # never in the training split


def checkpoint_dir(run_dir: str | Path, which: str = BEST) -> Path:
    return Path(run_dir) / "checkpoints" / which


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint folder from either itself or a run folder (its best checkpoint)."""
    path = Path(path)
    if (path / MODEL_WEIGHTS).is_file():
        return path
    if (checkpoint_dir(path) / MODEL_WEIGHTS).is_file():
        warn_if_unfinished(path)
        return checkpoint_dir(path)
    unfinished = describe_unfinished(path) if path.is_dir() else None
    if unfinished is not None:
        raise DataError(unfinished)
    raise FileNotFoundError(
        f"{path}: neither a checkpoint folder (with {MODEL_WEIGHTS}) nor a run folder "
        f"(with checkpoints/{BEST}/{MODEL_WEIGHTS})"
    )


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
    save_config(config, directory / "experiment.yaml")
    labels = {"task": model.config.task, "emotions": list(model.config.emotions)}
    if unseen_labels:
        labels["unseen_in_training"] = list(unseen_labels)
    _write_json(directory / "labels.json", labels)
    _write_json(directory / "features.json", features)
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
    config = load_config(directory / "experiment.yaml")
    labels = _read_json(directory / "labels.json")
    thresholds_file = directory / "thresholds.json"
    thresholds = _read_json(thresholds_file)["thresholds"] if thresholds_file.is_file() else None
    normalization = directory / NORMALIZATION
    text_encoder = None
    if (directory / TEXT_ENCODER_WEIGHTS).is_file():
        text_encoder = build_text_encoder(config.text_encoder)
        load_state_dict(text_encoder, directory / TEXT_ENCODER_WEIGHTS)
    model = load_model(directory).eval()
    features = _read_json(directory / "features.json")
    check_files_agree(
        directory, model.config, labels, thresholds, features, text_encoder is not None
    )
    return TrainedCheckpoint(
        directory=directory,
        model=model,
        config=config,
        task=labels["task"],
        emotions=list(labels["emotions"]),
        thresholds=thresholds,
        features=features,
        standardizers=load_standardizers(normalization) if normalization.is_file() else {},
        text_encoder=text_encoder,
        metrics=_read_json(directory / "metrics.json"),
        unseen_labels=list(labels.get("unseen_in_training", [])),
    )


def build_text_encoder(config: TextEncoderConfig) -> nn.Module:
    """The trainable text encoder named by the config (embedded MiniLM by default)."""
    from hri_emo.encoders import TrainableTextEncoder

    try:
        return TrainableTextEncoder(config.name, **config.params)
    except TypeError as err:
        raise ConfigError(f"text_encoder.params: {err}") from err


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, allow_nan=True) + "\n")


def _read_json(path: Path) -> Any:
    return read_json(path)
