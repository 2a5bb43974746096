"""The demo's plausibility checks for the exact maps read against the other emotions.

Each emotion's exact map (words and frames) minus the probability-weighted mean of all emotions'
maps (`ContributionMarginExplainer`'s reading, the first-order split of log p) is scored with the
checks the demo prints for the plain maps: keyword top-1 on word-carried utterances, separation
between emotions' maps, audio share per carrier.

    python benchmarks/margin_plausibility.py hri-emo-demo/benchmark/runs/hriemo-v2/seed0 \\
        ~/.cache/hri_emo/demo-corpus-seed0/manifest.csv
"""

from __future__ import annotations

import argparse
import copy
import csv
from pathlib import Path

import numpy as np

from hri_emo.demo.explain import attribution_checks
from hri_emo.explain.corpus import explain_corpus
from hri_emo.explain.faithfulness import against_the_others


def margin_maps(exp):
    """A copy of `exp` whose maps are each emotion's row minus the probability-weighted mean."""
    exp = copy.deepcopy(exp)
    p = np.array([exp.probabilities[e] for e in exp.emotions])
    for name in ("attribution", "frame_attribution"):
        rows = getattr(exp, name)
        if rows is not None:
            setattr(exp, name, against_the_others(rows, p))
    return exp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("manifest", type=Path, help="the demo corpus's manifest.csv")
    args = parser.parse_args()
    with args.manifest.open(newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    explanations = explain_corpus(args.run, "test")
    for name, maps in (("plain", explanations), ("margin", [margin_maps(e) for e in explanations])):
        checks = attribution_checks(maps, rows)
        shares = {k: round(v, 2) for k, v in checks["audio_share_by_carrier"].items()}
        print(
            f"{name}: keyword top-1 {checks['keyword_top1']['top1']:.2f} "
            f"({checks['keyword_top1']['utterances']} utterances), separation "
            f"{checks['map_separation']['separation']:.2f}, audio share {shares}"
        )


if __name__ == "__main__":
    main()
