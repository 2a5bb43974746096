"""`train(cfg) -> run folder`: one Lightning run from an ExperimentConfig.

The run folder holds the resolved config (`experiment.yaml`), TensorBoard and CSV logs
(`logs/`), safetensors checkpoints (`checkpoints/best/`, `checkpoints/last/`) and Lightning's
`checkpoints/last.ckpt` for exact resumption. After fitting, per-emotion decision thresholds
are tuned on the validation split and written into both checkpoint folders.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.fabric.utilities.rank_zero import rank_zero_only
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from hri_emo.checkpoint.run_status import (
    describe_unfinished,
    mark_failed,
    mark_finished,
    mark_running,
)
from hri_emo.data.records import Corpus
from hri_emo.errors import ConfigError
from hri_emo.model import create_model
from hri_emo.training.callbacks import AveragedWeights, SafetensorsCheckpoint
from hri_emo.training.checkpoint import (
    BEST,
    LAST,
    LIGHTNING_LAST,
    build_text_encoder,
    checkpoint_dir,
    load_checkpoint,
    save_checkpoint,
)
from hri_emo.training.config import (
    ExperimentConfig,
    config_to_dict,
    save_config,
    without_unused_text_features,
)
from hri_emo.training.cross_fit import training_fold_keys
from hri_emo.training.datamodule import EmotionDataModule
from hri_emo.training.evaluate import finalize_thresholds
from hri_emo.training.lightning_module import EmotionLightningModule
from hri_emo.training.probe_fallback import probe_fallback
from hri_emo.training.readout_fit import (
    fit_pooled_readouts,
    fitted_modalities,
    probe_batches,
)
from hri_emo.training.recipe_select import has_pooled_readouts, select_recipe
from hri_emo.training.reliability_fit import fit_reliability

log = logging.getLogger(__name__)

RUN_DIR_ENV = "HRI_EMO_RUN_DIR"
# HriEmoConfig fields that the data decides; setting them in model.params is an error.
DATA_DERIVED_FIELDS = (
    "text_dim",
    "audio_dim",
    "text_layers",
    "audio_layers",
    "emotions",
    "task",
    "pos_weight",
    "class_weights",
    "context_turns",
    "context_audio",
)


def train(
    cfg: ExperimentConfig,
    run_dir: str | Path | None = None,
    resume: bool = False,
    callbacks: Sequence[L.Callback] = (),
    corpus: Corpus | None = None,
) -> Path:
    """Train `cfg`; returns the run folder. `resume=True` continues `run_dir` from its
    `checkpoints/last.ckpt` (same weights, optimiser, schedule and epoch counter). `corpus`
    reuses an already-read corpus (benchmarks); `callbacks` are added to the Trainer."""
    cfg = _without_unused_text_features(cfg)
    select = cfg.train.readout_fit == "select" and has_pooled_readouts(cfg)
    run_dir = _prepare_run_dir(cfg, run_dir, resume and not select)
    mark_running(run_dir)
    try:
        if select:  # each candidate is a run of its own, resumed or reused where it can be

            def train_one(candidate: ExperimentConfig, folder: Path, again: bool) -> Path:
                return train(candidate, folder, again, callbacks, corpus)

            select_recipe(cfg, run_dir, train_one)
            _probes_if_better(cfg, run_dir, corpus)
            mark_finished(run_dir)
        else:
            _train(cfg, run_dir, resume, callbacks, corpus)
    except BaseException as err:
        mark_failed(run_dir, err)
        raise
    return run_dir


def _train(
    cfg: ExperimentConfig,
    run_dir: Path,
    resume: bool,
    callbacks: Sequence[L.Callback],
    corpus: Corpus | None,
) -> None:
    L.seed_everything(cfg.train.seed, workers=True, verbose=False)
    if cfg.trainer.num_threads:
        torch.set_num_threads(cfg.trainer.num_threads)
    datamodule = EmotionDataModule(cfg.data, seed=cfg.train.seed, corpus=corpus)
    try:
        datamodule.setup("fit")
        unseen = datamodule.check_unseen_labels()
        module = build_module(cfg, datamodule)
        if cfg.train.reliability_fit:  # deterministic too: a seeded sample of the frames
            fit_reliability(module.model, datamodule, cfg.train.seed)
        if cfg.train.readout_fit == "stack":  # deterministic: a resumed run fits the same again
            module.stacked_logits = fit_pooled_readouts(
                module.model,
                probe_batches(datamodule),
                fitted_modalities(datamodule),
                cfg.train.readout_fit_c,
                groups=training_fold_keys(datamodule),
            )
        writer = partial(_write_checkpoint, cfg=cfg, datamodule=datamodule, unseen=unseen)
        exporter = SafetensorsCheckpoint(
            checkpoint_dir(run_dir).parent, cfg.train.monitor, cfg.train.monitor_mode, writer
        )
        averaging = []
        if cfg.train.weight_averaging > 0:
            averaging.append(AveragedWeights(cfg.train.weight_averaging))
        trainer = build_trainer(cfg, run_dir, [exporter, *averaging, *callbacks])
        log_hyperparameters(trainer, cfg)
        ckpt_path = str(checkpoint_dir(run_dir).parent / LIGHTNING_LAST) if resume else None
        with _shared_run_dir(run_dir):
            trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)
        if trainer.is_global_zero:
            _ensure_best(run_dir)
            if cfg.train.readout_fit == "fallback":
                probe_fallback(checkpoint_dir(run_dir, BEST), datamodule, cfg.train)
            for which in (BEST, LAST):
                finalize_thresholds(checkpoint_dir(run_dir, which), datamodule, cfg.train)
            mark_finished(run_dir)
    finally:
        datamodule.close()


def _probes_if_better(cfg: ExperimentConfig, run_dir: Path, corpus: Corpus | None) -> None:
    """After `select`: the chosen model answers from its probes alone (the pooled read-outs
    fitted to convergence, its gate kept) where they validate better, so a run never ends
    below the probe on validation (training/probe_fallback.py; one process writes it). The
    probes are the `stack` candidate's where it ran: the same fit, done once."""
    if rank_zero_only.rank != 0:
        return
    datamodule = EmotionDataModule(cfg.data, seed=cfg.train.seed, corpus=corpus)
    try:
        datamodule.setup("fit")
        best = checkpoint_dir(run_dir, BEST)
        stack = checkpoint_dir(run_dir / "candidates" / "stack", BEST)
        fitted = load_checkpoint(stack).model if stack.is_dir() else None  # same probes, fitted
        if probe_fallback(best, datamodule, cfg.train, fitted):
            finalize_thresholds(best, datamodule, cfg.train)
    finally:
        datamodule.close()


def build_module(cfg: ExperimentConfig, datamodule: EmotionDataModule) -> EmotionLightningModule:
    """The registry model sized from the data, wrapped with the optimiser/training settings."""
    text_encoder = build_text_encoder(cfg.text_encoder) if cfg.text_encoder.finetune else None
    overrides = model_overrides(cfg, datamodule, text_encoder)
    try:
        model = create_model(cfg.model.name, **overrides)
    except ConfigError as err:
        raise _with_params_key(err, cfg) from err
    if cfg.data.context_turns and model.config.architecture != "hriemo":
        raise ConfigError(
            f"data.context_turns={cfg.data.context_turns}: conversation context is an option of "
            f"the hriemo models, not of {cfg.model.name!r} ({model.config.architecture})",
            key="data.context_turns",
        )
    return EmotionLightningModule(
        model,
        optim=cfg.optim,
        modality_dropout=cfg.train.modality_dropout,
        corruption=cfg.train.corruption,
        seed=cfg.train.seed,
        text_encoder=text_encoder,
        text_encoder_config=cfg.text_encoder,
    )


def _with_params_key(err: ConfigError, cfg: ExperimentConfig) -> ConfigError:
    """A model-config error about a value the user set in model.params, named by its full key."""
    params = cfg.model.resolved_params()
    if err.key is None or err.key not in params:
        return err
    section = (
        "model.per_model." + cfg.model.name
        if err.key in cfg.model.per_model.get(cfg.model.name, {})
        else "model.params"
    )
    key = f"{section}.{err.key}"
    return ConfigError(f"{key}: {err}", key=key)


def model_overrides(
    cfg: ExperimentConfig, datamodule: EmotionDataModule, text_encoder: torch.nn.Module | None
) -> dict[str, Any]:
    """`model.params` plus what the data decides: input dims, label set, task, class weights."""
    overrides = cfg.model.resolved_params()
    clashes = sorted(set(overrides) & set(DATA_DERIVED_FIELDS))
    if clashes:
        raise ConfigError(
            f"model.params / model.per_model set {clashes}, which come from the data (features, "
            f"label set, train.class_weights); remove them"
        )
    overrides.update(emotions=datamodule.emotions, task=datamodule.task)
    text_dim = text_encoder.dim if text_encoder is not None else datamodule.feature_dim("text")
    audio_dim = datamodule.feature_dim("audio")
    if text_dim is not None:
        overrides["text_dim"] = text_dim
    if audio_dim is not None:
        overrides["audio_dim"] = audio_dim
    # layer="all" stores hold several encoder layers: the model learns their mix (LayerMix).
    # A fine-tuned text encoder gives one layer, so text_layers keeps its default of 1 then.
    stored = datamodule.feature_metadata()
    modalities = ("audio",) if text_encoder is not None else ("text", "audio")
    for modality in modalities:
        extra = (stored.get(modality) or {}).get("extra") or {}
        overrides[f"{modality}_layers"] = int(extra.get("num_layers", 1))
    if cfg.train.class_weights:
        overrides.update(datamodule.class_weights())
    if cfg.data.context_turns:
        overrides["context_turns"] = cfg.data.context_turns
    if cfg.data.context_audio:
        overrides["context_audio"] = True
    return overrides


def build_trainer(
    cfg: ExperimentConfig, run_dir: Path, callbacks: Sequence[L.Callback]
) -> L.Trainer:
    """A Lightning Trainer with CSV (+ TensorBoard) logs, resumable last.ckpt and early stopping."""
    t = cfg.trainer
    # version_<n> folders: a resumed run logs next to, not over, the first part
    loggers = [CSVLogger(run_dir / "logs", name="csv")]
    if cfg.train.tensorboard:
        loggers.append(TensorBoardLogger(run_dir / "logs", name="tensorboard"))
    all_callbacks = [
        *callbacks,
        ModelCheckpoint(dirpath=checkpoint_dir(run_dir).parent, save_last=True, save_top_k=0),
        LearningRateMonitor(logging_interval="step"),
    ]
    if cfg.train.patience > 0:
        all_callbacks.append(
            EarlyStopping(
                cfg.train.monitor, patience=cfg.train.patience, mode=cfg.train.monitor_mode
            )
        )
    return L.Trainer(  # every TrainerConfig field but num_threads (torch's, set in train)
        **{f.name: getattr(t, f.name) for f in fields(t) if f.name != "num_threads"},
        gradient_clip_val=cfg.optim.gradient_clip_val or None,
        logger=loggers,
        callbacks=all_callbacks,
        enable_model_summary=t.enable_progress_bar,
    )


def _write_checkpoint(
    directory: Path,
    module: EmotionLightningModule,
    metrics: dict[str, Any],
    cfg: ExperimentConfig,
    datamodule: EmotionDataModule,
    unseen: list[str],
) -> None:
    save_checkpoint(
        directory,
        module.model,
        cfg,
        datamodule.feature_metadata(),
        datamodule.standardizers or {},
        module.text_encoder,
        metrics,
        unseen_labels=unseen,
    )


def _prepare_run_dir(cfg: ExperimentConfig, run_dir: str | Path | None, resume: bool) -> Path:
    run_dir = run_dir or os.environ.get(RUN_DIR_ENV)  # DDP workers: the launcher's folder
    if run_dir is None:
        if resume:
            raise ConfigError("resuming needs the run folder to resume")
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        name = cfg.train.run_name or f"{cfg.name}-{cfg.model.name}-seed{cfg.train.seed}-{stamp}"
        run_dir = Path(cfg.train.output_dir) / name
    run_dir = Path(run_dir)
    if resume and not (checkpoint_dir(run_dir).parent / LIGHTNING_LAST).is_file():
        why = describe_unfinished(run_dir) if run_dir.is_dir() else None
        raise FileNotFoundError(
            f"cannot resume: {run_dir}/checkpoints/{LIGHTNING_LAST} not found"
            + (f" ({why})" if why else "")
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    save_config(cfg, run_dir / "experiment.yaml")
    return run_dir


@contextmanager
def _shared_run_dir(run_dir: Path) -> Iterator[None]:
    """Processes that Lightning launches for DDP re-run the command; they inherit the run
    folder through the environment, so a time-stamped default name is the same on every rank."""
    os.environ[RUN_DIR_ENV] = str(run_dir)
    try:
        yield
    finally:
        os.environ.pop(RUN_DIR_ENV, None)


def _without_unused_text_features(cfg: ExperimentConfig) -> ExperimentConfig:
    """When fine-tuning the text encoder, precomputed text features are not read."""
    read = without_unused_text_features(cfg)
    if read is not cfg:
        log.info("text_encoder.finetune: ignoring data.text_features (%s)", cfg.data.text_features)
    return read


def _ensure_best(run_dir: Path) -> None:
    """A run whose monitored metric never improved (e.g. NaN) falls back to its last weights."""
    best, last = checkpoint_dir(run_dir, BEST), checkpoint_dir(run_dir, LAST)
    if not best.is_dir() and last.is_dir():
        log.warning("no validation improvement recorded; checkpoints/best is a copy of last")
        shutil.copytree(last, best)


def log_hyperparameters(trainer: L.Trainer, cfg: ExperimentConfig) -> None:
    for logger in trainer.loggers:
        logger.log_hyperparams(config_to_dict(cfg))
