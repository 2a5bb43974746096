"""`hri-emo ensemble RUN RUN ... --output DIR`: trained runs (e.g. seeds) answering as one model."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ensemble",
        help="combine trained runs of one recipe (e.g. seeds) into one model",
        description=(
            "Writes DIR/checkpoints/best: a model whose logits and explanation maps are the "
            "mean of the runs' (exact parts of each logit stay exact), with decision "
            "thresholds and validation metrics as training writes them. The runs must be "
            "trained on the same data and features with frozen encoders; only the seed may "
            "differ. DIR is then a run folder for evaluate, predict, explain, serve and export."
        ),
    )
    parser.add_argument("runs", nargs="+", help="run folders (or checkpoint folders)")
    parser.add_argument("--output", required=True, help="the ensemble's run folder (new)")
    parser.set_defaults(func=run_ensemble)


def run_ensemble(args: argparse.Namespace) -> int:
    import json

    from hri_emo.training.ensemble import build_ensemble

    directory = build_ensemble(args.runs, args.output)
    metrics = json.loads((directory / "metrics.json").read_text()).get("val_with_thresholds", {})
    shown = {k: round(v, 4) for k, v in metrics.items() if k in ("accuracy", "ua", "macro_f1")}
    print(f"wrote {directory} ({len(args.runs)} members); validation {shown}")
    return 0
