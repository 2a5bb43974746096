"""How much validation metrics swing from epoch to epoch, per run folder (Lightning CSV logs).

For every run folder found under each given path (a `logs/csv/*/metrics.csv`), prints the
number of validation epochs, the mean absolute change of the monitored metric between
consecutive epochs, its range, and the largest validation loss; then the mean over runs per
path. Used to compare recipes (docs/benchmarks.md, "Stable training on small corpora"):

    python benchmarks/training_stability.py runs/emodb_folds/round4 runs/emodb_folds/probefit
"""

from __future__ import annotations

import argparse
import csv
import itertools
import statistics
from pathlib import Path


def run_stats(metrics: Path, metric: str) -> dict[str, float] | None:
    rows = [r for r in csv.DictReader(metrics.open()) if r.get(metric)]
    if len(rows) < 2:
        return None
    values = [float(r[metric]) for r in rows]
    losses = [float(r["val/loss"]) for r in rows if r.get("val/loss")]
    steps = [abs(a - b) for a, b in itertools.pairwise(values)]
    return {
        "epochs": len(values),
        "mean_step": statistics.mean(steps),
        "low": min(values),
        "high": max(values),
        "max_loss": max(losses) if losses else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--metric", default="val/ua")
    args = parser.parse_args()
    head = f"mean abs change of {args.metric}"
    print(f"| runs under | run | epochs | {head} | range | max val loss |")
    print("|---|---|---|---|---|---|")
    for path in args.paths:
        found = [
            (m, s)
            for m in sorted(path.rglob("metrics.csv"))
            if (s := run_stats(m, args.metric)) is not None
        ]
        for metrics, s in found:
            run = metrics.relative_to(path).parts[0]
            print(
                f"| {path.name} | {run} | {s['epochs']} | {s['mean_step']:.3f} | "
                f"{s['low']:.3f}-{s['high']:.3f} | {s['max_loss']:.2f} |"
            )
        if found:
            mean_step = statistics.mean(s["mean_step"] for _, s in found)
            max_loss = statistics.mean(s["max_loss"] for _, s in found)
            name, count = path.name, len(found)
            print(f"| {name} | **mean of {count}** | | {mean_step:.3f} | | {max_loss:.2f} |")


if __name__ == "__main__":
    main()
