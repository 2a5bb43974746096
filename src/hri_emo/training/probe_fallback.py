"""Never below the probe on validation: the fitted probes replace a trained model that scores
worse than they do (`train.readout_fit: fallback`, the default).

After training, a copy of the best checkpoint gets its pooled read-outs fitted as logistic-
regression probes of the training split and its classifier zeroed (training/readout_fit.py):
the same model, answering from the beta-gated probes alone. Both are scored on the validation
split with `train.monitor`; when the probes are better they become `checkpoints/best` (same
architecture, so explanations stay exact and every tool reads it as before). The comparison is
recorded in the checkpoint's metrics.json under "probe_fallback".
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

from torch import nn

from hri_emo.training.checkpoint import load_checkpoint, save_checkpoint
from hri_emo.training.config import TrainConfig
from hri_emo.training.cross_fit import training_fold_keys
from hri_emo.training.datamodule import EmotionDataModule
from hri_emo.training.evaluate import predict_loader
from hri_emo.training.lightning_module import EmotionLightningModule
from hri_emo.training.metrics import compute_metrics
from hri_emo.training.readout_fit import (
    copy_pooled_readouts,
    fit_pooled_readouts,
    fitted_modalities,
    probe_batches,
)

log = logging.getLogger(__name__)


def validation_score(module: EmotionLightningModule, datamodule: EmotionDataModule, monitor: str):
    """The value of `monitor` ("val/<metric>") of `module` on the validation split."""
    val = predict_loader(module, datamodule.loader("val"))
    name = monitor.removeprefix("val/")
    if name == "loss":
        return val.loss
    return compute_metrics(module.task, val.targets, val.probs, module.emotions)[name]


def probe_fallback(
    directory: Path,
    datamodule: EmotionDataModule,
    train_cfg: TrainConfig,
    fitted: nn.Module | None = None,
) -> bool:
    """Replace the checkpoint in `directory` by its probes when they validate better; returns
    whether it did. `fitted`: a model of the same run whose probes are already fitted (the
    `stack` candidate's), taken instead of fitting them again. Models without pooled read-outs
    are left alone."""
    ckpt = load_checkpoint(directory)
    if getattr(ckpt.model, "text_readout", None) is None:
        return False
    trained = EmotionLightningModule(ckpt.model, text_encoder=ckpt.text_encoder)
    probe_model = copy.deepcopy(ckpt.model)
    modalities = fitted_modalities(datamodule)
    if fitted is not None:
        copy_pooled_readouts(fitted, probe_model, modalities)
    else:
        groups = training_fold_keys(datamodule)
        batches = probe_batches(datamodule)
        c = train_cfg.readout_fit_c
        fit_pooled_readouts(probe_model, batches, modalities, c, groups=groups)
    probes = EmotionLightningModule(probe_model, text_encoder=ckpt.text_encoder)
    scores = {
        "trained": validation_score(trained, datamodule, train_cfg.monitor),
        "probes": validation_score(probes, datamodule, train_cfg.monitor),
    }
    if train_cfg.monitor_mode == "max":
        better = scores["probes"] > scores["trained"]
    else:
        better = scores["probes"] < scores["trained"]
    chosen = "probes" if better else "trained"
    record = {"monitor": train_cfg.monitor, **scores, "chosen": chosen}
    log.info("probe fallback on %s: %s", train_cfg.monitor, record)
    if better:
        save_checkpoint(
            directory,
            probe_model,
            ckpt.config,
            ckpt.features,
            ckpt.standardizers,
            ckpt.text_encoder,
            ckpt.metrics,
            ckpt.unseen_labels,
        )
    metrics = json.loads((directory / "metrics.json").read_text())
    metrics["probe_fallback"] = record
    (directory / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return better
