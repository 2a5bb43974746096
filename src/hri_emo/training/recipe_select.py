"""`train.readout_fit: select`: train the model each way, keep the one validation prefers.

Which recipe is right depends on the corpus, and is not known in advance: where pooled encoder
features carry the emotion (acted speech, fixed sentences) the probes fitted first with a
residual on top ("stack") win; where the emotion sits in one modality or the other and the
words matter (MOSI's transcripts, the spoken demo), the gated pooled read-outs trained jointly
from scratch ("experts": model.params.decoder_logits = false, two linear experts and the gate
that weighs them) do. The candidates are trained with the same seed, data and early stopping
into `candidates/<recipe>/`, and the one that scores best on `train.monitor` is copied into the
run folder (`checkpoints/`, `logs/`).

"none", the whole model trained from scratch (the emotion decoder's logits included), is the third
candidate, taken only when it validates better than both others by more than NONE_MARGIN: its
maps find the emotional words less often than the gated experts' (docs/training.md), so a tie
goes to the read-out recipes ("stack" starts as the probes). It reads the frames themselves
where the read-outs only see their mean, which an acted corpus can need (docs/benchmarks.md,
"An acted corpus built here": validation 0.948 against 0.889 for "experts"). Where "experts"
cannot be built (the config already turns the decoder's logits off), the candidates are "stack"
and "none", compared plainly. Past turns (conversation context) add their own term to any
candidate's logits (model/context.py).
"""

from __future__ import annotations

import csv
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from lightning.fabric.utilities.rank_zero import rank_zero_only

from hri_emo.checkpoint.run_status import read_status
from hri_emo.model import get_config
from hri_emo.training.checkpoint import BEST, checkpoint_dir
from hri_emo.training.config import ExperimentConfig

log = logging.getLogger(__name__)

CANDIDATES = ("stack", "experts", "none")
SMOOTHING = 3  # validation epochs averaged when the candidates are compared
NONE_MARGIN = 0.02  # "none" must beat the read-out candidates by more than this on the monitor


def validation_history(folder: Path, monitor: str) -> list[float]:
    """The monitor's value at each validation epoch of a candidate, from its CSV logs (a resumed
    run's later log versions overwrite the epochs they repeat)."""
    by_epoch: dict[int, float] = {}
    logs = (folder / "logs" / "csv").glob("version_*/metrics.csv")
    for path in sorted(logs, key=lambda p: int(p.parent.name.split("_")[-1])):
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get(monitor) and row.get("epoch"):
                    by_epoch[int(row["epoch"])] = float(row[monitor])
    return [by_epoch[epoch] for epoch in sorted(by_epoch)]


def smoothed_best(values: list[float], mode: str, width: int = SMOOTHING) -> float | None:
    """The best mean of `width` consecutive values (all of them when there are fewer)."""
    if not values:
        return None
    width = min(width, len(values))
    means = [sum(values[i : i + width]) / width for i in range(len(values) - width + 1)]
    return max(means) if mode == "max" else min(means)


def has_pooled_readouts(cfg: ExperimentConfig) -> bool:
    """Whether `cfg.model` builds pooled read-outs (the only models the recipes differ for)."""
    params = cfg.model.resolved_params()
    known = {k: v for k, v in params.items() if k == "pooled_readout"}
    return bool(get_config(cfg.model.name, **known).pooled_readout)


def candidate_recipes(cfg: ExperimentConfig) -> tuple[str, ...]:
    """The candidates of `train.select_candidates` that `cfg` can build, in CANDIDATES order:
    no "experts" where it cannot be built ("none" stands in if it was not asked for)."""
    params = cfg.model.resolved_params()
    experts = params.get("decoder_logits", True)
    asked = set(cfg.train.select_candidates)
    if not experts and "experts" in asked:
        asked = (asked - {"experts"}) | {"none"}
    return tuple(c for c in CANDIDATES if c in asked)


def choose(scores: dict[str, float | None], mode: str, fallback: str) -> str:
    """The candidate with the best score ("max" or "min" `mode`), where "none" has to beat the
    best other candidate by more than NONE_MARGIN when "experts" is among them; `fallback` when
    no candidate has a score."""
    valid = {k: v for k, v in scores.items() if v is not None}
    if not valid:
        return fallback
    sign = 1.0 if mode == "max" else -1.0
    best = max(valid, key=lambda k: sign * valid[k])
    others = {k: v for k, v in valid.items() if k != "none"}
    if best != "none" or "experts" not in others:  # without experts: the plain best, as before
        return best
    runner_up = max(others, key=lambda k: sign * others[k])
    return best if sign * (valid["none"] - others[runner_up]) > NONE_MARGIN else runner_up


def candidate_config(cfg: ExperimentConfig, recipe: str) -> ExperimentConfig:
    """`cfg` with one candidate's recipe: "stack" or "none" as train.readout_fit; "experts" is
    "none" with the decoder's logits off."""
    if recipe != "experts":
        return replace(cfg, train=replace(cfg.train, readout_fit=recipe))
    model = replace(cfg.model, params={**cfg.model.params, "decoder_logits": False})
    return replace(cfg, train=replace(cfg.train, readout_fit="none"), model=model)


def select_recipe(cfg: ExperimentConfig, run_dir: Path, train_one: Callable[..., Path]) -> dict:
    """Train each candidate recipe with `train_one(cfg, run_dir, resume)` (a finished one is
    reused, an interrupted one resumed), copy the best into `run_dir/checkpoints`; returns
    the selection record."""
    scores, single = {}, {}
    recipes = candidate_recipes(cfg)
    for recipe in recipes:
        folder = run_dir / "candidates" / recipe
        candidate = candidate_config(cfg, recipe)
        state = (read_status(folder) or {}).get("state") if folder.is_dir() else None
        if state != "finished":
            resumable = (folder / "checkpoints" / "last.ckpt").is_file()
            train_one(candidate, folder, resumable)
        metrics = json.loads((checkpoint_dir(folder) / "metrics.json").read_text())
        single[recipe] = metrics.get("best_score")
        history = validation_history(folder, cfg.train.monitor)
        smoothed = smoothed_best(history, cfg.train.monitor_mode)
        scores[recipe] = single[recipe] if smoothed is None else smoothed
    chosen = choose(scores, cfg.train.monitor_mode, recipes[-1])
    record = {
        "monitor": cfg.train.monitor,
        "scores": scores,  # best mean of SMOOTHING consecutive validation epochs
        "best_epoch_scores": single,
        "smoothing_epochs": SMOOTHING,
        "none_margin": NONE_MARGIN,
        "chosen": chosen,
    }
    log.info("recipe selection on %s: %s", cfg.train.monitor, record)
    if rank_zero_only.rank != 0:  # DDP: every process trained; one writes the result
        return record
    source = run_dir / "candidates" / chosen
    for part in ("checkpoints", "logs"):  # what a run folder holds, resumable last.ckpt included
        if (source / part).is_dir():
            shutil.rmtree(run_dir / part, ignore_errors=True)
            shutil.copytree(source / part, run_dir / part)
    best = checkpoint_dir(run_dir, BEST) / "metrics.json"
    metrics = json.loads(best.read_text())
    best.write_text(json.dumps({**metrics, "recipe_selection": record}, indent=2) + "\n")
    (run_dir / "selection.json").write_text(json.dumps(record, indent=2) + "\n")
    return record
