"""Beta and accuracy when the transcript is broken, through the recognizer (what a robot runs).

Each test utterance of a demo run goes through `EmotionRecognizer.classify` with its recording
and, in turn, the corpus transcript, the transcript with 30 % / 60 % of its words dropped, 60 %
of its words swapped for random vocabulary words (robustness/corruptions.py), and random
letters. Unlike `hri-emo robustness` (feature stores, where only the word rate can tell), the
recognizer also runs the built-in forced aligner: a transcript it finds not to match the speech
is not trusted by the gate (inference/timing.py). Prints per condition: mean beta, its rise over
the clean transcript, accuracy, and the share of transcripts flagged as not matching.

    python benchmarks/beta_broken_words.py DEMO/benchmark/runs/hriemo-v2/seed0 [--limit 156]
"""

from __future__ import annotations

import argparse
import csv
import string
from pathlib import Path

import numpy as np

from hri_emo.encoders import load_audio
from hri_emo.inference import EmotionRecognizer
from hri_emo.inference.timing import matches_speech
from hri_emo.robustness import corruptions as C
from hri_emo.training.run import open_run


def garbage(text: str, rng: np.random.Generator) -> str:
    """As many 'words' of random letters as the transcript has."""
    letters = list(string.ascii_lowercase)
    sizes = rng.integers(2, 8, size=len(text.split()))
    return " ".join("".join(rng.choice(letters, size=int(n))) for n in sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    manifest = Path(open_run(args.run).config.data.corpus)
    with manifest.open() as f:
        rows = [r for r in csv.DictReader(f) if r["split"] == "test"][: args.limit]
    vocabulary = sorted({w.lower() for r in rows for w in r["text"].split()})
    recognizer = EmotionRecognizer.from_pretrained(args.run)
    rng = np.random.default_rng(0)
    conditions = {
        "clean": lambda t: t,
        "word dropout 30 %": lambda t: C.word_dropout(t, 0.3, rng),
        "word dropout 60 %": lambda t: C.word_dropout(t, 0.6, rng),
        "word swap 60 %": lambda t: C.word_swap(t, 0.6, vocabulary, rng),
        "random letters": lambda t: garbage(t, rng),
    }
    waves = [load_audio(manifest.parent / r["wav"]) for r in rows]
    clean_beta = None
    for name, corrupt in conditions.items():
        betas, hits, flagged = [], [], []
        for row, wave in zip(rows, waves):
            result = recognizer.classify(wave, corrupt(row["text"]))
            betas.append(result.beta_mean)
            hits.append(result.predicted == [row["label"]])
            flagged.append(not matches_speech(result.alignment_confidence))
        beta = float(np.mean(betas))
        clean_beta = beta if clean_beta is None else clean_beta
        print(
            f"{name:18s} beta {beta:.2f} ({beta - clean_beta:+.2f})  accuracy "
            f"{np.mean(hits):.3f}  flagged as not matching {np.mean(flagged):.0%}"
        )


if __name__ == "__main__":
    main()
