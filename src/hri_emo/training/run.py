"""A trained run, opened once: `open_run(path) -> Run`.

    run = open_run("runs/iemocap/seed0")  # a run folder (its best checkpoint) or a checkpoint
    run.model, run.task, run.emotions, run.thresholds
    datamodule = run.datamodule()  # the run's data, checked against the checkpoint
    recognizer = EmotionRecognizer.from_run(run)  # hri_emo.inference (one layer up)

`Run` owns what every reader of a run needs and used to repeat: the checkpoint (weights, labels,
thresholds, feature provenance, standardisation), the resolved config as its data is read (a
fine-tuned text encoder reads raw transcripts, not `data.text_features`), the data module with
the stored standardisation (never refitted) and the check that the corpus still gives the
features and labels the model was trained on. `hri-emo evaluate`, the robustness runner, corpus
explanations and `hri-emo predict` all open runs here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from hri_emo.errors import ConfigError, FeatureMismatchError
from hri_emo.training.checkpoint import TrainedCheckpoint, load_checkpoint
from hri_emo.training.config import ExperimentConfig, load_config, without_unused_text_features
from hri_emo.training.datamodule import EmotionDataModule
from hri_emo.training.lightning_module import EmotionLightningModule

STAGE_ALIASES = {"valid": "val", "validation": "val", "dev": "val"}


def stage_of(split: str) -> str:
    """ "train", "val" or "test" from a split name (aliases: valid, validation, dev)."""
    stage = STAGE_ALIASES.get(split, split)
    if stage not in ("train", "val", "test"):
        raise ConfigError(f"--split: expected train, val or test, got {split!r}")
    return stage


@dataclass
class Run:
    """A trained checkpoint and the config its data is read with."""

    checkpoint: TrainedCheckpoint
    config: ExperimentConfig  # the run's experiment.yaml (+ overrides), as its data is read

    @property
    def directory(self) -> Path:
        return self.checkpoint.directory

    @property
    def model(self) -> nn.Module:
        return self.checkpoint.model

    @property
    def text_encoder(self) -> nn.Module | None:
        """The fine-tuned text encoder, or None (features come from the stores)."""
        return self.checkpoint.text_encoder

    @property
    def task(self) -> str:
        return self.checkpoint.task

    @property
    def emotions(self) -> list[str]:
        return self.checkpoint.emotions

    @property
    def thresholds(self) -> list[float] | None:
        return self.checkpoint.thresholds

    @property
    def standardizers(self) -> dict[str, Any]:
        return self.checkpoint.standardizers

    def datamodule(self, *, setup: bool = True) -> EmotionDataModule:
        """The run's data module with the stored standardisation. `setup`: read the corpus now
        and check it gives the checkpoint's labels and features (`check_compatible`)."""
        cfg = self.config
        datamodule = EmotionDataModule(
            cfg.data, seed=cfg.train.seed, standardizers=self.standardizers
        )
        if setup:
            datamodule.setup("test")
            check_compatible(self.checkpoint, datamodule)
        return datamodule

    def module(self) -> EmotionLightningModule:
        """The Lightning module of the run's model (evaluation mode)."""
        return EmotionLightningModule(self.model, text_encoder=self.text_encoder).eval()


def open_run(path: str | Path, overrides: Sequence[str] = ()) -> Run:
    """A run folder (its best checkpoint) or a checkpoint folder; `overrides` of its config,
    e.g. data paths ("data.corpus=/elsewhere/manifest.csv")."""
    checkpoint = load_checkpoint(path)
    config = load_config(checkpoint.directory / "experiment.yaml", overrides)
    return Run(checkpoint, without_unused_text_features(config))


def check_compatible(ckpt: TrainedCheckpoint, datamodule: EmotionDataModule) -> None:
    """The evaluation data must have the checkpoint's label set and feature kinds."""
    if datamodule.emotions != ckpt.emotions or datamodule.task != ckpt.task:
        raise FeatureMismatchError(
            f"checkpoint {ckpt.directory} was trained for {ckpt.task} {ckpt.emotions}; the corpus "
            f"gives {datamodule.task} {datamodule.emotions}"
        )
    found = datamodule.feature_metadata()
    for modality in ("text", "audio"):
        trained, given = ckpt.features.get(modality), found.get(modality)
        if trained is None or given is None:
            continue
        for key in ("encoder", "dim", "level", "layer", "source"):
            if trained.get(key) != given.get(key):
                raise FeatureMismatchError(
                    f"{modality} features differ from training ({ckpt.directory}/features.json): "
                    f"{key} {given.get(key)!r} given, {trained.get(key)!r} trained on"
                )
