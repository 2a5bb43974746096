"""Does beta turn away from the voice where, *within* one utterance, the voice is noisy?

White noise over only the second half of each test recording of a demo run (the first half
left clean), at --snr dB relative to the recording's power. Each utterance goes through the
recognizer twice (clean and half-noisy recording, the corpus transcript, word times from the
built-in aligner) and the beta of each word is compared: words whose spoken centre lies in the
noisy half against words in the clean half. Issue target: beta of the noisy-half words falls by
at least 0.2 more than that of the clean-half words.

    python benchmarks/beta_within_utterance.py DEMO/benchmark/runs/hriemo-v2/seed0 [--snr 0]
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from hri_emo.encoders import load_audio
from hri_emo.inference import EmotionRecognizer
from hri_emo.robustness.corruptions import mix_at_snr
from hri_emo.training.run import open_run


def noisy_second_half(wave: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    half = len(wave) // 2
    noise = np.zeros(len(wave))
    noise[half:] = rng.standard_normal(len(wave) - half)
    mixed = mix_at_snr(wave, noise, snr_db)
    return mixed / max(1.0, float(np.abs(mixed).max()))  # a peak over 1 is scaled, not clipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--snr", type=float, default=0.0, help="dB over the whole recording")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    manifest = Path(open_run(args.run).config.data.corpus)
    with manifest.open() as f:
        rows = [r for r in csv.DictReader(f) if r["split"] == "test"][: args.limit]
    recognizer = EmotionRecognizer.from_pretrained(args.run)
    rng = np.random.default_rng(0)
    change = {"clean half": [], "noisy half": []}
    for row in rows:
        wave = load_audio(manifest.parent / row["wav"])
        clean = recognizer.classify(wave, row["text"])
        noisy = recognizer.classify(noisy_second_half(wave, args.snr, rng), row["text"])
        middle = len(wave) / 2 / 16000
        for k, span in enumerate(clean.word_times or []):
            if span is None or clean.beta_per_word is None:
                continue
            side = "noisy half" if (span[0] + span[1]) / 2 >= middle else "clean half"
            change[side].append(float(noisy.beta_per_word[k] - clean.beta_per_word[k]))
    for side, values in change.items():
        print(f"{side}: {len(values)} words, mean beta change {np.mean(values):+.3f}")
    gap = np.mean(change["clean half"]) - np.mean(change["noisy half"])
    print(f"noisy-half words fall by {gap:+.3f} more than clean-half words (target >= 0.2)")


if __name__ == "__main__":
    main()
