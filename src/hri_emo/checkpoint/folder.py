"""What a trained model folder is, and its reader (no pickle, no Lightning, no training code).

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
only to resume training exactly. `training.checkpoint` writes these folders and reads them with
the run's typed config; inference reads them here, taking from experiment.yaml only the few
keys that say how inputs were prepared (`InputSettings`, the fine-tuned text encoder's name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from torch import nn

from hri_emo.checkpoint.run_status import describe_unfinished, warn_if_unfinished
from hri_emo.data.normalization import FeatureStandardizer, load_standardizers
from hri_emo.errors import ConfigError, DataError
from hri_emo.model import load_model
from hri_emo.model.ensemble import is_ensemble_folder
from hri_emo.model.saved_files import check_files_agree, load_state_dict, read_json

BEST, LAST = "best", "last"
LIGHTNING_LAST = "last.ckpt"
MODEL_WEIGHTS = "model.safetensors"
TEXT_ENCODER_WEIGHTS = "text_encoder.safetensors"
NORMALIZATION = "normalization.safetensors"
EXPERIMENT = "experiment.yaml"
FEATURES = "features.json"


@dataclass
class InputSettings:
    """How the run's data pipeline prepared model inputs (experiment.yaml's `data` section)."""

    lowercase_text: bool = False  # data.reader_options.lowercase_text
    max_text_len: int | None = None
    max_audio_len: int | None = None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> InputSettings:
        """From the `data` mapping of experiment.yaml (absent keys: the schema's defaults)."""
        options = data.get("reader_options") or {}
        return cls(
            lowercase_text=bool(options.get("lowercase_text", False)),
            max_text_len=data.get("max_text_len"),
            max_audio_len=data.get("max_audio_len"),
        )


@dataclass
class Checkpoint:
    """One checkpoint folder, read: the model and everything needed to feed and decide it."""

    directory: Path
    model: nn.Module
    task: str
    emotions: list[str]
    thresholds: list[float] | None
    features: dict[str, Any]
    inputs: InputSettings = field(default_factory=InputSettings)
    standardizers: dict[str, FeatureStandardizer] = field(default_factory=dict)
    text_encoder: nn.Module | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    unseen_labels: list[str] = field(default_factory=list)  # never in the training split


def checkpoint_dir(run_dir: str | Path, which: str = BEST) -> Path:
    return Path(run_dir) / "checkpoints" / which


def holds_model(directory: Path) -> bool:
    """A saved model's weights, or an ensemble of saved models (model/ensemble.py), are here."""
    return (directory / MODEL_WEIGHTS).is_file() or is_ensemble_folder(directory)


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint folder from either itself or a run folder (its best checkpoint)."""
    path = Path(path)
    if holds_model(path):
        return path
    if holds_model(checkpoint_dir(path)):
        warn_if_unfinished(path)
        return checkpoint_dir(path)
    unfinished = describe_unfinished(path) if path.is_dir() else None
    if unfinished is not None:
        raise DataError(unfinished)
    raise FileNotFoundError(
        f"{path}: neither a checkpoint folder (with {MODEL_WEIGHTS}) nor a run folder "
        f"(with checkpoints/{BEST}/{MODEL_WEIGHTS})"
    )


def model_folder(path: str | Path) -> Path:
    """The folder of a trained model given as a run folder (its best checkpoint), a checkpoint
    folder or a bare save_pretrained folder; ConfigError saying what was expected."""
    path = Path(path)
    try:
        return resolve_checkpoint(path)
    except FileNotFoundError:
        raise ConfigError(
            f"{path} is not a trained model: expected a run folder (with checkpoints/best/), "
            "a checkpoint folder (model.safetensors, config.json, features.json, ...) or a "
            "save_pretrained folder (model.safetensors, config.json)"
            + ("" if path.exists() else "; the path does not exist")
        ) from None


def read_model_folder(directory: Path) -> tuple[nn.Module, Checkpoint | None]:
    """(model, checkpoint) of a `model_folder`; checkpoint None for a bare save_pretrained
    folder (no features.json). A missing file is a ConfigError naming the folder."""
    try:
        if not (directory / FEATURES).is_file():
            return load_model(directory), None
        ckpt = read_checkpoint(directory)
        return ckpt.model, ckpt
    except FileNotFoundError as err:
        raise ConfigError(f"{directory}: incomplete model or checkpoint folder: {err}") from err


def read_experiment(path: Path) -> dict[str, Any]:
    """experiment.yaml as a plain mapping (the typed schema is `training.config.load_config`)."""
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        return OmegaConf.to_container(OmegaConf.load(path), resolve=True) or {}
    except Exception as err:  # YAML syntax errors come from several libraries
        raise ConfigError(f"config file {path} is not valid YAML: {err}") from err


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Load a checkpoint folder (or a run folder's best checkpoint)."""
    directory = resolve_checkpoint(path)
    experiment = read_experiment(directory / EXPERIMENT)
    labels = read_json(directory / "labels.json")
    thresholds_file = directory / "thresholds.json"
    thresholds = read_json(thresholds_file)["thresholds"] if thresholds_file.is_file() else None
    normalization = directory / NORMALIZATION
    text_encoder = None
    if (directory / TEXT_ENCODER_WEIGHTS).is_file():
        section = experiment.get("text_encoder") or {}
        text_encoder = create_text_encoder(section.get("name", "minilm"), section.get("params"))
        load_state_dict(text_encoder, directory / TEXT_ENCODER_WEIGHTS)
    model = load_model(directory).eval()
    features = read_json(directory / FEATURES)
    check_files_agree(
        directory, model.config, labels, thresholds, features, text_encoder is not None
    )
    return Checkpoint(
        directory=directory,
        model=model,
        task=labels["task"],
        emotions=list(labels["emotions"]),
        thresholds=thresholds,
        features=features,
        inputs=InputSettings.from_data(experiment.get("data") or {}),
        standardizers=load_standardizers(normalization) if normalization.is_file() else {},
        text_encoder=text_encoder,
        metrics=read_json(directory / "metrics.json"),
        unseen_labels=list(labels.get("unseen_in_training", [])),
    )


def create_text_encoder(name: str, params: dict[str, Any] | None = None) -> nn.Module:
    """The trainable text encoder `name` (embedded MiniLM: "minilm") with `params`."""
    from hri_emo.encoders import TrainableTextEncoder

    try:
        return TrainableTextEncoder(name, **(params or {}))
    except TypeError as err:
        raise ConfigError(f"text_encoder.params: {err}") from err
