"""`hri-emo train`, `hri-emo evaluate` and `hri-emo benchmark`.

Configs are YAML files (configs/*.yaml) plus dotted overrides, for example
`hri-emo train --config configs/cmu_mosi.yaml model.name=hriemo-v1 trainer.max_epochs=5`.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

OVERRIDES_HELP = "dotted config overrides, e.g. model.name=hriemo-v1 trainer.max_epochs=5"


def register(subparsers: argparse._SubParsersAction) -> None:
    _register_train(subparsers)
    _register_evaluate(subparsers)
    _register_benchmark(subparsers)


def _register_train(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model from a config (Lightning; checkpoints, logs, thresholds)",
        description=(
            "Trains one model. Writes the run folder (experiment.yaml, logs/, checkpoints/best "
            "and checkpoints/last as safetensors, checkpoints/last.ckpt for --resume) and "
            "prints its path."
        ),
    )
    parser.add_argument(
        "--config", action="append", default=[], help="YAML config (repeat to merge, in order)"
    )
    parser.add_argument("--run-dir", default=None, help="run folder (default: output_dir/name)")
    parser.add_argument(
        "--resume", default=None, metavar="RUN_DIR", help="continue RUN_DIR from last.ckpt"
    )
    parser.add_argument("overrides", nargs="*", help=OVERRIDES_HELP)
    parser.set_defaults(func=run_train)


def _register_evaluate(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="metrics of a trained checkpoint on a split (JSON, Markdown, figures)",
        description=(
            "Evaluates RUN_OR_CKPT (a run folder: its checkpoints/best; or a checkpoint folder) "
            "with its stored thresholds. Writes metrics.json, metrics.md, predictions.csv and "
            "confusion_matrix.png (single-label) or pr_curves.png (multi-label)."
        ),
    )
    parser.add_argument("checkpoint", metavar="RUN_OR_CKPT")
    parser.add_argument("--split", default="test", help="train, val or test (default: test)")
    parser.add_argument("--output", default=None, help="output folder (default: <run>/eval/...)")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    parser.add_argument(
        "overrides", nargs="*", help="overrides of the run's config, e.g. data paths"
    )
    parser.set_defaults(func=run_evaluate)


def _register_benchmark(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "benchmark",
        help="train + evaluate several models over several seeds (mean ± std table)",
        description=(
            "Every model in --models is trained with every seed on the same data and features "
            "and evaluated on benchmark.split; writes benchmark.md and benchmark.json."
        ),
    )
    parser.add_argument("--config", action="append", default=[], help="YAML config(s)")
    parser.add_argument("--models", default=None, help="comma-separated registry model names")
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds: 0..N-1")
    parser.add_argument("--output", required=True, help="output folder")
    parser.add_argument("overrides", nargs="*", help=OVERRIDES_HELP)
    parser.set_defaults(func=run_benchmark_command)


def run_train(args: argparse.Namespace) -> int:
    from hri_emo.training.config import load_config
    from hri_emo.training.train import train

    if args.resume:
        paths = [Path(args.resume) / "experiment.yaml", *args.config]
        cfg = load_config(paths, args.overrides)
        run_dir = train(cfg, run_dir=args.resume, resume=True)
    else:
        cfg = load_config(args.config, args.overrides)
        run_dir = train(cfg, run_dir=args.run_dir)
    summary = json.loads((run_dir / "checkpoints" / "best" / "metrics.json").read_text())
    print(f"run folder: {run_dir}")
    print(
        f"best epoch {summary.get('best_epoch')}: {cfg.train.monitor} = {summary.get('best_score')}"
    )
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from hri_emo.training.evaluate import evaluate

    result = evaluate(args.checkpoint, args.split, args.overrides, args.output, not args.no_plots)
    print((result.output_dir / "metrics.md").read_text(), end="")
    print(f"written to {result.output_dir}")
    return 0


def _benchmark_command(args: argparse.Namespace) -> str:
    """The command line that reproduces this benchmark (recorded in its reports)."""
    parts = ["hri-emo", "benchmark"]
    parts += [item for path in args.config for item in ("--config", path)]
    if args.models:
        parts += ["--models", args.models]
    if args.seeds is not None:
        parts += ["--seeds", str(args.seeds)]
    parts += ["--output", args.output, *args.overrides]
    return " ".join(shlex.quote(p) for p in parts)


def run_benchmark_command(args: argparse.Namespace) -> int:
    from hri_emo.training.benchmark import run_benchmark
    from hri_emo.training.config import load_config

    overrides = list(args.overrides)
    if args.models:
        overrides.append(f"benchmark.models=[{args.models}]")
    if args.seeds is not None:
        overrides.append(f"benchmark.seeds=[{','.join(str(s) for s in range(args.seeds))}]")
    cfg = load_config(args.config, overrides)
    run_benchmark(cfg, args.output, command=_benchmark_command(args))
    print((Path(args.output) / "benchmark.md").read_text(), end="")
    return 0
