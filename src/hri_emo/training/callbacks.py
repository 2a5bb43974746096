"""Lightning callbacks: safetensors checkpoint folders (best and last), weight averaging."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import WeightAveraging
from torch.optim.swa_utils import get_ema_multi_avg_fn

from hri_emo.errors import ConfigError
from hri_emo.training.checkpoint import BEST, LAST


class SafetensorsCheckpoint(L.Callback):
    """Writes `checkpoints/best/` when the monitored validation metric improves and
    `checkpoints/last/` after every epoch (global rank 0 only); with weight averaging, the
    averaged weights (the ones validation scored).

    `write(directory, module, metrics)` writes one folder (see hri_emo.training.checkpoint).
    The best score is part of Lightning's checkpoint state, so a resumed run keeps it.
    """

    def __init__(
        self,
        checkpoints_dir: str | Path,
        monitor: str,
        mode: str,
        write: Callable[[Path, L.LightningModule, dict[str, float]], None],
    ) -> None:
        self.checkpoints_dir = Path(checkpoints_dir)
        self.monitor = monitor
        self.mode = mode
        self.write = write
        self.best_score: float | None = None
        self.best_epoch: int | None = None

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        if self.monitor not in trainer.callback_metrics:
            available = sorted(k for k in trainer.callback_metrics if k.startswith("val/"))
            raise ConfigError(
                f"train.monitor = {self.monitor!r} is not logged; validation logs {available}"
            )
        score = float(trainer.callback_metrics[self.monitor])
        if self._improves(score):
            self.best_score, self.best_epoch = score, trainer.current_epoch
            if trainer.is_global_zero:
                self.write(
                    self.checkpoints_dir / BEST, _exported(trainer, module), self._metrics(trainer)
                )

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            self.write(
                self.checkpoints_dir / LAST, _exported(trainer, module), self._metrics(trainer)
            )

    def state_dict(self) -> dict[str, Any]:
        return {"best_score": self.best_score, "best_epoch": self.best_epoch}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best_score = state_dict["best_score"]
        self.best_epoch = state_dict["best_epoch"]

    def _improves(self, score: float) -> bool:
        if math.isnan(score):
            return False
        if self.best_score is None:
            return True
        return score < self.best_score if self.mode == "min" else score > self.best_score

    def _metrics(self, trainer: L.Trainer) -> dict[str, Any]:
        values = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
        return {
            "epoch": trainer.current_epoch,
            "global_step": trainer.global_step,
            "monitor": self.monitor,
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
            "val": values,
        }


class AveragedWeights(WeightAveraging):
    """An exponential moving average of the weights (`train.weight_averaging` = its decay per
    optimizer step). Lightning's `WeightAveraging` swaps the average in for validation and into
    the model when training ends; SafetensorsCheckpoint exports it (`averaged_module`)."""

    def __init__(self, decay: float) -> None:
        super().__init__(multi_avg_fn=get_ema_multi_avg_fn(decay))

    @property
    def averaged_module(self) -> L.LightningModule | None:
        """The LightningModule holding the averaged weights (None before fit starts)."""
        return None if self._average_model is None else self._average_model.module


def _exported(trainer: L.Trainer, module: L.LightningModule) -> L.LightningModule:
    """The module whose weights are exported: the weight average when training keeps one."""
    for callback in trainer.callbacks:
        if isinstance(callback, AveragedWeights) and callback.averaged_module is not None:
            return callback.averaged_module
    return module
