"""`hri-emo train` (`hri-emo evaluate`: cli/evaluate.py; `hri-emo benchmark`: cli/benchmark.py).

Configs are YAML files (configs/*.yaml) plus dotted overrides, for example
`hri-emo train --config configs/cmu_mosi.yaml model.name=hriemo-v1 trainer.max_epochs=5`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

OVERRIDES_HELP = "dotted config overrides, e.g. model.name=hriemo-v1 trainer.max_epochs=5"


def register(subparsers: argparse._SubParsersAction) -> None:
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
