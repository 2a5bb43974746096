"""`hri-emo benchmark`: several models, several seeds, the same data (training/benchmark.py)."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from hri_emo.cli.train import OVERRIDES_HELP


def register(subparsers: argparse._SubParsersAction) -> None:
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
