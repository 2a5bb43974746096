"""MELD, text only: weighted F1 over the 7 emotions with and without conversation context.

Extracts MiniLM word features of MELD's 13,708 transcripts once (resumable, outside the repo),
then trains `hriemo-v2` from configs/meld.yaml with `data.context_turns` = each value of
--context, over --seeds, through `run_benchmark` (finished runs are reused), and prints one
table row per setting: test (or --split val) accuracy, UA, weighted F1, macro F1, mean ± std.

    .venv/bin/python benchmarks/meld_context.py --features /tmp/meld/text_minilm.h5 \\
        --out /tmp/meld/runs --context 0 3 --seeds 0 1 2

Extra `key=value` arguments override the config (choose them with --split val, never test).
Reference points: DialogueRNN 57.0, COSMIC 65.2 weighted F1 (7 emotions, test).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from hri_emo.data.readers import read_corpus
from hri_emo.encoders import create_text_encoder, extract_features
from hri_emo.training.benchmark import run_benchmark
from hri_emo.training.config import load_config

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "meld"
METRICS = ("accuracy", "ua", "weighted_f1", "macro_f1")


def ensure_features(data: Path, store: Path) -> None:
    """Write (or finish) the MiniLM word-sequence store of every MELD transcript."""
    store.parent.mkdir(parents=True, exist_ok=True)
    encoder = create_text_encoder("minilm", layer="last", pooling="none", batch_size=32)
    report = extract_features(read_corpus(data, format="meld"), encoder, store, batch_size=32)
    print(report.summary())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--features", type=Path, required=True, help="MiniLM store (.h5)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the runs")
    parser.add_argument("--context", type=int, nargs="+", default=[0, 3])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--split", default="test", choices=("val", "test"))
    parser.add_argument("overrides", nargs="*", help="config overrides, key=value")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    ensure_features(args.data, args.features)
    rows = []
    for k in args.context:
        overrides = [
            f"data.corpus={args.data}",
            f"data.text_features={args.features}",
            f"data.context_turns={k}",
            f"benchmark.seeds=[{','.join(map(str, args.seeds))}]",
            f"benchmark.split={args.split}",
            *args.overrides,
        ]
        cfg = load_config(REPO_ROOT / "configs" / "meld.yaml", overrides)
        tag = "_".join([f"context{k}", *(o.replace("/", "-") for o in args.overrides)])
        summary = run_benchmark(cfg, args.out / tag, command=" ".join(overrides))
        metrics = summary["models"][cfg.model.name]
        cells = [f"{metrics[m]['mean']:.4f} ± {metrics[m]['std']:.4f}" for m in METRICS]
        seconds = [run["seconds"] for run in summary["runs"][cfg.model.name]]
        rows.append(f"| {k} | " + " | ".join(cells) + f" | {sum(seconds) / len(seconds):.0f} |")
        print(rows[-1], flush=True)
    print(f"\n{args.split} split, seeds {args.seeds}, overrides {args.overrides or '-'}")
    print("| context turns | accuracy | UA | weighted F1 | macro F1 | s / run |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
