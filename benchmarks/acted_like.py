"""An acted-speech corpus built here, in the shape of the hidden one that v2 fell below a probe on
(issue 22): every voice says the same two neutral sentences in every emotion, so only the voice
carries the label; voices are disjoint between train and test, validation is carved from the
training voices as `configs/own_manifest.yaml` does for a user's corpus.

The speech is the demo corpus's (eSpeak NG through `hri_emo.synth`, the demo's voices and
emotional prosody, hri_emo/demo/corpus.py) with each prosody setting's jitter doubled (fixed
before any run, to keep the task off the ceiling). 4 emotions x 2 sentences x 4 takes per voice;
14 training voices (the demo's train + validation voices), 4 test voices: 576 utterances.

    PYTHONPATH=src python benchmarks/acted_like.py build OUT     # corpus + feature stores
    hri-emo benchmark --config configs/own_manifest.yaml \\
        --models hriemo-v2,audio-only,early-fusion --seeds 3 --output OUT/bench \\
        data.corpus=OUT/corpus/manifest.csv data.text_features=OUT/text.h5 \\
        data.audio_features=OUT/audio.h5
    python benchmarks/probe_baseline.py --config OUT/bench/benchmark.yaml
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

import numpy as np

from hri_emo.demo.corpus import (
    COLUMNS,
    EMOTIONS,
    VOICES,
    DemoUtterance,
    draw_prosody,
    synthesize_plan,
)

SENTENCES = ["Kids are talking by the door", "Dogs are sitting by the door"]
TAKES = 4  # per voice, emotion and sentence
JITTER = 2.0  # times the demo's jitter of each prosody setting


def plan(seed: int = 0) -> list[DemoUtterance]:
    """Every voice says both sentences in every emotion, TAKES times, with jittered prosody."""
    rng = np.random.default_rng(seed)
    voices = {"train": VOICES["train"] + VOICES["valid"], "test": VOICES["test"]}
    utterances = []
    for split, names in voices.items():
        for voice in names:
            for emotion in EMOTIONS:
                for text in SENTENCES:
                    for _ in range(TAKES):
                        settings = draw_prosody(rng, emotion, JITTER)
                        uid = f"{split}-{len(utterances):04d}"
                        utterances.append(
                            DemoUtterance(uid, split, voice, text, "neutral", emotion, settings)
                        )
    return utterances


def build(out: Path) -> None:
    corpus = out / "corpus"
    manifest = corpus / "manifest.csv"
    if not manifest.is_file():
        (corpus / "wav").mkdir(parents=True, exist_ok=True)
        rows = synthesize_plan(plan(), corpus)
        with manifest.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    hri_emo = str(Path(sys.executable).with_name("hri-emo"))
    for modality in ("text", "audio"):
        store = out / f"{modality}.h5"
        subprocess.run(
            [
                hri_emo,
                "extract",
                str(manifest),
                "--modality",
                modality,
                "--out",
                str(store),
                "--no-progress",
            ],
            check=True,
        )
    print(manifest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build"])
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    build(args.out)


if __name__ == "__main__":
    main()
