"""Seeds × models benchmark: the same data and features, every model, mean ± std over seeds.

This is the gate/decoder ablation of HRI-EMO against its baselines: each (model, seed) pair is
trained with `train()` into `<output>/runs/<model>/seed<k>/`, its best checkpoint is evaluated
on `benchmark.split`, and `benchmark.json` + `benchmark.md` summarise every metric as
mean ± sample standard deviation (ddof = 1) over seeds.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hri_emo.data.records import Corpus
from hri_emo.errors import ConfigError
from hri_emo.training.checkpoint import BEST, checkpoint_dir
from hri_emo.training.config import ExperimentConfig, config_to_dict, save_config
from hri_emo.training.datamodule import load_corpus
from hri_emo.training.evaluate import HEADLINE, evaluate
from hri_emo.training.train import train

log = logging.getLogger(__name__)

RUN_RESULT = "run.json"  # written when a (model, seed) run is trained and evaluated


def run_config(cfg: ExperimentConfig, model: str, seed: int) -> ExperimentConfig:
    """The config of one benchmark run: `model` (with its `model.per_model` params), `seed`."""
    run = copy.deepcopy(cfg)
    run.model.name = model
    run.train.seed = seed
    run.train.run_name = None
    return run


def run_benchmark(
    cfg: ExperimentConfig, output_dir: str | Path, command: str | None = None
) -> dict[str, Any]:
    """Train and evaluate every model × seed of `cfg.benchmark`; returns the summary dict."""
    models, seeds = list(cfg.benchmark.models), list(cfg.benchmark.seeds)
    if not models or not seeds:
        raise ConfigError("benchmark.models and benchmark.seeds must not be empty")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    save_config(cfg, output_dir / "benchmark.yaml")
    corpus = load_corpus(cfg.data)
    runs: dict[str, list[dict[str, Any]]] = {}
    for model in models:
        runs[model] = []
        for seed in seeds:
            run_dir = output_dir / "runs" / model / f"seed{seed}"
            run = _finished_run(run_dir, cfg, model, seed)
            if run is None:
                run = _train_and_evaluate(run_config(cfg, model, seed), run_dir, corpus)
            runs[model].append(run)
            log.info("%s seed %d: %s", model, seed, _headline(run["metrics"], corpus.task))
    summary = summarize(runs, corpus.task, cfg, command)
    if cfg.benchmark.ensemble and len(seeds) > 1 and not cfg.text_encoder.finetune:
        summary["ensembles"] = {
            model: _ensemble(output_dir, model, runs[model], cfg.benchmark.split)
            for model in models
        }
    (output_dir / "benchmark.json").write_text(json.dumps(summary, indent=2) + "\n")
    (output_dir / "benchmark.md").write_text(markdown_table(summary))
    return summary


def _train_and_evaluate(run_cfg: ExperimentConfig, run_dir: Path, corpus: Corpus) -> dict[str, Any]:
    started = time.perf_counter()
    train(run_cfg, run_dir=run_dir, corpus=corpus)
    result = evaluate(run_dir, run_cfg.benchmark.split, plots=False)
    run = {
        "seed": run_cfg.train.seed,
        "run_dir": str(run_dir),
        "seconds": time.perf_counter() - started,
        "metrics": result.metrics,
        "validation": _validation_metrics(run_dir),
        "config": config_to_dict(run_cfg),
    }
    (run_dir / RUN_RESULT).write_text(json.dumps(run, indent=2) + "\n")
    return run


def _ensemble(
    output_dir: Path, model: str, runs: list[dict[str, Any]], split: str
) -> dict[str, Any]:
    """The model's seeds as one model (training/ensemble.py), evaluated on `split`; rebuilt
    every time (it costs one evaluation, no training)."""
    import shutil

    from hri_emo.training.ensemble import build_ensemble

    directory = output_dir / "ensembles" / model
    shutil.rmtree(directory, ignore_errors=True)
    build_ensemble([run["run_dir"] for run in runs], directory)
    saved = json.loads((checkpoint_dir(directory, BEST) / "metrics.json").read_text())
    return {
        "seeds": [run["seed"] for run in runs],
        "run_dir": str(directory),
        "metrics": evaluate(directory, split, plots=False).metrics,
        "validation": saved.get("val_with_thresholds", {}),
    }


def _finished_run(
    run_dir: Path, cfg: ExperimentConfig, model: str, seed: int
) -> dict[str, Any] | None:
    """The result of a run an interrupted benchmark already finished with the same config;
    None when it has to be (re)trained."""
    path = run_dir / RUN_RESULT
    if not path.is_file():
        return None
    run = json.loads(path.read_text())
    if _run_identity(run.get("config", {})) != _run_identity(
        config_to_dict(run_config(cfg, model, seed))
    ):
        log.warning("%s: config changed since this run, training it again", run_dir)
        return None
    log.info("%s: finished earlier, reusing its result", run_dir)
    return run


def _run_identity(config: dict[str, Any]) -> dict[str, Any]:
    """What decides a run's result: its config without the benchmark's own list of models and
    seeds and its ensemble switch (adding seeds, models or the ensemble row must not retrain
    the runs already done; the evaluated split stays part of it)."""
    benchmark = {
        k: v
        for k, v in config.get("benchmark", {}).items()
        if k not in ("models", "seeds", "ensemble")
    }
    return {**config, "benchmark": benchmark}


def _validation_metrics(run_dir: Path) -> dict[str, float]:
    """Validation metrics of the best checkpoint (what early stopping selected it on)."""
    saved = json.loads((checkpoint_dir(run_dir, BEST) / "metrics.json").read_text())
    return {k.removeprefix("val/"): v for k, v in saved.get("val", {}).items()}


def aggregate(values: Sequence[float]) -> dict[str, float]:
    """Mean and sample standard deviation (ddof = 1; 0 for one value), NaN values skipped."""
    finite = np.array([v for v in values if v is not None and not math.isnan(v)], dtype=np.float64)
    if finite.size == 0:
        return {"mean": math.nan, "std": math.nan, "n": 0}
    std = float(finite.std(ddof=1)) if finite.size > 1 else 0.0
    return {"mean": float(finite.mean()), "std": std, "n": int(finite.size)}


def summarize(
    runs: dict[str, list[dict[str, Any]]], task: str, cfg: ExperimentConfig, command: str | None
) -> dict[str, Any]:
    models = {model: _aggregate_runs(model_runs, "metrics") for model, model_runs in runs.items()}
    validation = {model: _aggregate_runs(rs, "validation") for model, rs in runs.items()}
    return {
        "task": task,
        "split": cfg.benchmark.split,
        "seeds": list(cfg.benchmark.seeds),
        "command": command,
        "headline": [k for k in HEADLINE[task] if k != "loss"],
        "models": models,
        "validation": validation,
        "runs": {m: [_without_config(r) for r in rs] for m, rs in runs.items()},
        "config": config_to_dict(cfg),
    }


def _aggregate_runs(runs: list[dict[str, Any]], field: str) -> dict[str, dict[str, float]]:
    keys = sorted({k for run in runs for k in run.get(field, {})})
    return {k: aggregate([run.get(field, {}).get(k, math.nan) for run in runs]) for k in keys}


def _without_config(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if k != "config"}


def markdown_table(summary: dict[str, Any]) -> str:
    """Models × headline metrics, mean ± std over seeds."""
    headline = summary["headline"]
    first = headline[0]
    lines = [
        f"Split: {summary['split']}; seeds: {summary['seeds']} (mean ± std, ddof = 1); "
        f"val {first}: the best checkpoint's validation value (what it was selected on)",
        "",
        "| model | " + " | ".join(headline) + f" | val {first} | mean time (s) |",
        "|---|" + "---|" * (len(headline) + 2),
    ]
    for model, metrics in summary["models"].items():
        cells = [_mean_std(metrics.get(k)) for k in headline]
        cells.append(_mean_std(summary.get("validation", {}).get(model, {}).get(first)))
        seconds = np.mean([run["seconds"] for run in summary["runs"][model]])
        lines.append(f"| {model} | " + " | ".join(cells) + f" | {seconds:.0f} |")
    for model, ensemble in summary.get("ensembles", {}).items():
        cells = [_single(ensemble["metrics"].get(k)) for k in [*headline]]
        cells.append(_single(ensemble["validation"].get(first)))
        name = f"{model} (ensemble of {len(ensemble['seeds'])} seeds)"
        lines.append(f"| {name} | " + " | ".join(cells) + " | – |")
    if summary.get("command"):
        lines += ["", f"Command: `{summary['command']}`"]
    return "\n".join(lines) + "\n"


def _mean_std(stats: dict[str, float] | None) -> str:
    if stats is None or math.isnan(stats["mean"]):
        return "n/a"
    return f"{stats['mean']:.4f} ± {stats['std']:.4f}"


def _single(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.4f}"


def _headline(metrics: dict[str, float], task: str) -> str:
    return ", ".join(f"{k} {metrics[k]:.4f}" for k in HEADLINE[task] if k in metrics)
