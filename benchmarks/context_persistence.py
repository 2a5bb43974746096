"""Does conversation context pay where emotions persist across turns? A synthetic check.

Builds dialogues of 8 turns between two speakers in which the emotion (4 classes) stays the
same from one turn to the next with probability --persist and otherwise changes at random.
Each utterance's text features carry a weak, noisy cue of its own emotion (word sequences of
MiniLM's size, real HDF5 store), so the utterance alone is ambiguous and the past turns help in
proportion to how much emotions persist. Trains `hriemo-v2` (configs/meld.yaml's settings)
with `data.context_turns` = each --context value over --seeds through `run_benchmark`, and
prints test accuracy / weighted F1 per setting. With --persist 0.25 (= chance of staying among 4
classes) the past turns carry no information: the control.

    python benchmarks/context_persistence.py --out /tmp/persist --persist 0.8 --context 0 3
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore
from hri_emo.training.benchmark import run_benchmark
from hri_emo.training.config import load_config

REPO_ROOT = Path(__file__).resolve().parents[1]
EMOTIONS = ["neutral", "happy", "sad", "angry"]
DIM, TURNS = 384, 8
METRICS = ("accuracy", "weighted_f1")


def write_corpus(
    folder: Path, persist: float, cue: float, seed: int = 0, dialogues=(120, 30, 60)
) -> Path:
    """dialogues.csv + text.h5 in `folder`; returns the manifest."""
    rng = np.random.default_rng(seed)
    prototypes = rng.normal(size=(len(EMOTIONS), DIM)).astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    meta = FeatureMetadata(encoder="synthetic", revision="1", modality="text",
                           level="sequence", dim=DIM)  # fmt: skip
    rows = ["id,split,text,speaker,dialogue,turn,label"]
    with FeatureStore.create(folder / "text.h5", meta, overwrite=True) as store:
        for split, count in zip(("train", "valid", "test"), dialogues, strict=True):
            for d in range(count):
                emotion = int(rng.integers(len(EMOTIONS)))
                for t in range(TURNS):
                    if t and rng.random() > persist:
                        emotion = int(rng.integers(len(EMOTIONS)))
                    words = int(rng.integers(4, 9))
                    text = rng.normal(size=(words, DIM)).astype(np.float32)
                    text[int(rng.integers(words))] += cue * prototypes[emotion]  # one cue word
                    uid = f"{split}-{d}-{t}"
                    store.write(uid, text, tokens=[f"w{i}" for i in range(words)])
                    label = EMOTIONS[emotion]
                    rows.append(f"{uid},{split},x,spk{t % 2},{split}-{d},{t},{label}")
    manifest = folder / "dialogues.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--persist", type=float, default=0.8)
    parser.add_argument("--context", type=int, nargs="+", default=[0, 3])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--cue", type=float, default=0.15, help="strength of the emotion cue")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    folder = args.out / f"persist{args.persist}-cue{args.cue}"
    manifest = write_corpus(folder, args.persist, args.cue)
    rows = []
    for k in args.context:
        overrides = [
            f"data.corpus={manifest}",
            "data.format=manifest",
            "data.val_split=valid",
            f"data.text_features={folder / 'text.h5'}",
            f"data.context_turns={k}",
            f"benchmark.seeds=[{','.join(map(str, args.seeds))}]",
            "trainer.enable_progress_bar=false",
            "train.tensorboard=false",
        ]
        cfg = load_config(REPO_ROOT / "configs" / "meld.yaml", overrides)
        summary = run_benchmark(cfg, folder / f"context{k}", command=" ".join(overrides))
        metrics = summary["models"][cfg.model.name]
        cells = [f"{metrics[m]['mean']:.3f} ± {metrics[m]['std']:.3f}" for m in METRICS]
        rows.append(f"| {args.persist} | {k} | " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    print(f"\ntest split, seeds {args.seeds}")
    print("| persistence | context turns | accuracy | weighted F1 |\n|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
