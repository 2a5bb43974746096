"""Evaluate a checkpoint folder on a split; tune decision thresholds on validation.

`evaluate(path, "test")` loads the safetensors checkpoint (no pickle), rebuilds the data
pipeline from the run's resolved config (with the stored standardisation statistics, never
refitted), checks the features match those the model was trained on, and writes
`metrics.json`, `metrics.md`, `predictions.csv` and a confusion matrix (single-label) or
per-emotion PR curves (multi-label) into `<run>/eval/<split>/`.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from hri_emo.result import prediction_columns, prediction_row
from hri_emo.training.checkpoint import TrainedCheckpoint, load_checkpoint, write_thresholds
from hri_emo.training.config import TrainConfig
from hri_emo.training.datamodule import EmotionDataModule
from hri_emo.training.lightning_module import EmotionLightningModule
from hri_emo.training.metrics import compute_metrics, confusion_matrix, predictions
from hri_emo.training.plots import plot_confusion_matrix, plot_pr_curves
from hri_emo.training.run import open_run, stage_of
from hri_emo.training.thresholds import tune_thresholds

HEADLINE = {
    "singlelabel": ("accuracy", "ua", "weighted_f1", "macro_f1", "loss"),
    "multilabel": (
        "wa_mean",
        "macro_f1",
        "micro_f1",
        "jaccard",
        "hamming_loss",
        "auc_mean",
        "loss",
    ),
}


@dataclass
class SplitPredictions:
    """Model outputs over one split, in loader order."""

    ids: list[str]
    targets: np.ndarray  # (N, E) 0/1 or (N,) class indices
    probs: np.ndarray  # (N, E)
    loss: float  # mean loss over items


@dataclass
class EvaluationResult:
    metrics: dict[str, float]
    output_dir: Path
    files: dict[str, Path] = field(default_factory=dict)


@torch.no_grad()
def predict_loader(module: EmotionLightningModule, loader: DataLoader) -> SplitPredictions:
    """Run the shared model step (no dropout, no modality dropout) over a loader."""
    module.eval()
    ids, targets, probs, loss_sum = [], [], [], 0.0
    for batch in loader:
        batch = batch.to(module.device)
        out = module.model_step(batch, "predict")
        ids.extend(batch.ids)
        targets.append(batch.labels.cpu().numpy())
        probs.append(out.probabilities.double().cpu().numpy())
        loss_sum += float(out.loss) * len(batch)
    return SplitPredictions(
        ids, np.concatenate(targets), np.concatenate(probs), loss_sum / len(ids)
    )


def finalize_thresholds(
    directory: Path, datamodule: EmotionDataModule, train_cfg: TrainConfig
) -> list[float] | None:
    """Tune per-emotion thresholds of the checkpoint in `directory` on the validation split
    (multi-label tasks) and store them with the tuned validation metrics."""
    ckpt = load_checkpoint(directory)
    module = EmotionLightningModule(ckpt.model, text_encoder=ckpt.text_encoder)
    val = predict_loader(module, datamodule.loader("val"))
    thresholds = None
    if ckpt.task == "multilabel":
        if train_cfg.threshold_criterion == "none":
            thresholds = [0.5] * len(ckpt.emotions)
        else:
            thresholds = tune_thresholds(val.targets, val.probs, train_cfg.threshold_criterion)
    write_thresholds(directory, thresholds, train_cfg.threshold_criterion)
    metrics = dict(ckpt.metrics)
    metrics["val_with_thresholds"] = compute_metrics(
        ckpt.task, val.targets, val.probs, ckpt.emotions, thresholds
    ) | {"loss": val.loss}
    (directory / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return thresholds


def evaluate(
    path: str | Path,
    split: str = "test",
    overrides: Sequence[str] = (),
    output_dir: str | Path | None = None,
    plots: bool = True,
) -> EvaluationResult:
    """Metrics of a checkpoint (or a run folder's best checkpoint) on `split`."""
    stage = stage_of(split)
    run = open_run(path, overrides)
    ckpt, datamodule = run.checkpoint, run.datamodule()
    result = predict_loader(run.module(), datamodule.loader(stage))
    datamodule.close()
    metrics = compute_metrics(
        ckpt.task, result.targets, result.probs, ckpt.emotions, ckpt.thresholds
    )
    metrics["loss"] = result.loss
    if ckpt.unseen_labels:
        metrics.update(seen_class_metrics(metrics, ckpt.emotions, ckpt.unseen_labels))
    out_dir = Path(output_dir) if output_dir else _default_output_dir(ckpt.directory, stage)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = write_report(ckpt, stage, result, metrics, out_dir, plots)
    return EvaluationResult(metrics, out_dir, files)


def seen_class_metrics(
    metrics: dict[str, float], emotions: list[str], unseen: list[str]
) -> dict[str, float]:
    """Macro F1 over only the classes training saw (data.allow_unseen_labels runs); the unseen
    classes keep their own f1/<class> entries and are listed apart in the report."""
    seen = [e for e in emotions if e not in unseen and f"f1/{e}" in metrics]
    values = [metrics[f"f1/{e}"] for e in seen if not math.isnan(metrics[f"f1/{e}"])]
    return {"macro_f1_seen_classes": float(np.mean(values)) if values else math.nan}


def write_report(
    ckpt: TrainedCheckpoint,
    stage: str,
    result: SplitPredictions,
    metrics: dict[str, float],
    out_dir: Path,
    plots: bool = True,
) -> dict[str, Path]:
    """metrics.json, metrics.md, predictions.csv and the figure of one evaluation."""
    files = {"json": out_dir / "metrics.json", "markdown": out_dir / "metrics.md"}
    report: dict[str, Any] = {
        "checkpoint": str(ckpt.directory),
        "split": stage,
        "items": len(result.ids),
        "task": ckpt.task,
        "emotions": ckpt.emotions,
        "thresholds": ckpt.thresholds,
        "metrics": metrics,
    }
    if ckpt.unseen_labels:
        report["unseen_in_training"] = _unseen_counts(ckpt, result)
    preds = predictions(ckpt.task, result.probs, ckpt.thresholds)
    if ckpt.task == "singlelabel":
        matrix = confusion_matrix(result.targets, preds, len(ckpt.emotions))
        report["confusion_matrix"] = matrix.tolist()
        if plots:
            files["confusion_matrix"] = plot_confusion_matrix(
                matrix, ckpt.emotions, out_dir / "confusion_matrix.png", f"{stage} split"
            )
    elif plots:
        files["pr_curves"] = plot_pr_curves(
            result.targets, result.probs, ckpt.emotions, out_dir / "pr_curves.png", ckpt.thresholds
        )
    files["json"].write_text(json.dumps(report, indent=2) + "\n")
    files["markdown"].write_text(markdown_report(report))
    files["predictions"] = _write_predictions(out_dir / "predictions.csv", ckpt, result, preds)
    return files


def markdown_report(report: dict[str, Any]) -> str:
    """A Markdown table of the headline metrics (+ per-emotion table for multi-label)."""
    metrics = report["metrics"]
    lines = [
        f"# Evaluation: {report['split']} split ({report['items']} utterances)",
        "",
        f"Checkpoint: `{report['checkpoint']}`",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {_fmt(metrics[k])} |" for k in HEADLINE[report["task"]] if k in metrics]
    unseen = report.get("unseen_in_training")
    if unseen:
        lines += [
            "",
            "Classes never seen in training (data.allow_unseen_labels; not learnable):",
            "",
            "| class | utterances in this split | F1 |",
            "|---|---|---|",
        ]
        lines += [f"| {c} | {n} | {_fmt(metrics.get(f'f1/{c}'))} |" for c, n in unseen.items()]
        seen_f1 = _fmt(metrics.get("macro_f1_seen_classes"))
        lines += ["", f"Macro F1 over the classes seen in training: {seen_f1}"]
    if report["task"] == "multilabel":
        thresholds = report["thresholds"] or [0.5] * len(report["emotions"])
        lines += ["", "| emotion | WA | F1 | ROC-AUC | threshold |", "|---|---|---|---|---|"]
        for emotion, limit in zip(report["emotions"], thresholds):
            values = [_fmt(metrics[f"{name}/{emotion}"]) for name in ("wa", "f1", "auc")]
            lines.append(f"| {emotion} | {' | '.join(values)} | {limit:.3f} |")
    else:
        lines += ["", "| class | F1 |", "|---|---|"]
        lines += [f"| {c} | {_fmt(metrics[f'f1/{c}'])} |" for c in report["emotions"]]
    return "\n".join(lines) + "\n"


def _unseen_counts(ckpt: TrainedCheckpoint, result: SplitPredictions) -> dict[str, int]:
    """Utterances of the evaluated split holding each class that training never saw."""
    counts = {}
    for label in ckpt.unseen_labels:
        index = ckpt.emotions.index(label)
        if ckpt.task == "singlelabel":
            counts[label] = int((np.asarray(result.targets) == index).sum())
        else:
            counts[label] = int((np.asarray(result.targets)[:, index] > 0).sum())
    return counts


def _write_predictions(
    path: Path, ckpt: TrainedCheckpoint, result: SplitPredictions, preds
) -> Path:
    """id, target (the true emotions joined by ";") and `prediction_columns`, as `predict`."""
    emotions = ckpt.emotions
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "target", *prediction_columns(emotions)])
        writer.writeheader()
        for i, utt_id in enumerate(result.ids):
            target, predicted = _names(ckpt, result.targets[i]), _names(ckpt, preds[i])
            probs = result.probs[i].round(6)
            row = prediction_row(emotions, predicted, probs)
            writer.writerow({"id": utt_id, "target": ";".join(target), **row})
    return path


def _names(ckpt: TrainedCheckpoint, decision: Any) -> list[str]:
    """Emotion names of a class index (single-label) or a 0/1 row (multi-label)."""
    if ckpt.task == "singlelabel":
        return [ckpt.emotions[int(decision)]]
    return [e for e, flag in zip(ckpt.emotions, decision) if flag]


def _default_output_dir(checkpoint: Path, stage: str) -> Path:
    """<run>/eval/<split> for a run's checkpoint, else <checkpoint>/eval/<split>."""
    if checkpoint.parent.name == "checkpoints":
        return checkpoint.parent.parent / "eval" / f"{checkpoint.name}-{stage}"
    return checkpoint / "eval" / stage


def _fmt(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.4f}"
