"""`hri-emo evaluate RUN_OR_CKPT`: metrics of a trained run on a split (training/evaluate.py)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
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


def run_evaluate(args: argparse.Namespace) -> int:
    from hri_emo.training.evaluate import evaluate

    result = evaluate(args.checkpoint, args.split, args.overrides, args.output, not args.no_plots)
    print((result.output_dir / "metrics.md").read_text(), end="")
    print(f"written to {result.output_dir}")
    return 0
