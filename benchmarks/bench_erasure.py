"""What erasure costs at inference, and what the corpus summary ranks per emotion.

Times `classify(wave, text)` with the model's own maps against `attribution="erasure"` (the
transcript encoded again without each word, one batch; inference/erasure.py) on test utterances
of a demo run, median over utterances and rounds, with the erasure part; then prints the
summary's most selective words.

    python benchmarks/bench_erasure.py HRI_EMO_DEMO/benchmark/runs/hriemo-v2/seed0 [--count 12]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

import numpy as np

from hri_emo.encoders import load_audio
from hri_emo.explain import explain_corpus, summarize
from hri_emo.inference import EmotionRecognizer
from hri_emo.training.run import open_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a demo run folder (hriemo-v2/seed0)")
    parser.add_argument("--count", type=int, default=12, help="test utterances timed")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    manifest = Path(open_run(args.run).config.data.corpus)
    with manifest.open() as f:
        rows = [r for r in csv.DictReader(f) if r["split"] == "test"][: args.count]
    recognizer = EmotionRecognizer.from_pretrained(args.run)
    inputs = [(load_audio(manifest.parent / r["wav"]), r["text"]) for r in rows]
    for method in ("attention", "erasure") * args.rounds:
        seconds, parts, sizes = [], {"word_erasure": []}, []
        for wave, text in inputs:
            start = time.perf_counter()
            result = recognizer.classify(wave, text, attribution=method)
            seconds.append(time.perf_counter() - start)
            frames = 0 if result.frame_times is None else len(result.frame_times)
            sizes.append((len(result.words), frames))
            for key, values in parts.items():
                values += [result.timings_ms[key]] if key in result.timings_ms else []
        line = f"{method:10s} classify median {1000 * statistics.median(seconds):.0f} ms"
        for key, values in parts.items():
            line += f", {key} {statistics.median(values):.0f} ms" if values else ""
        words, frames = np.median(sizes, axis=0)
        print(f"{line} (median {words:.0f} words, {frames:.0f} frames)")
    summary = summarize(explain_corpus(args.run, "test"))
    for emotion, words in summary["top_words"].items():
        print(f"{emotion:8s}", ", ".join(w for w, _, _ in words[:8]))


if __name__ == "__main__":
    main()
