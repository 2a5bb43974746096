"""How good are the built-in aligner's word times? Whisper tiny.en forced alignment
(`hri_emo.inference.asr.align_words`) against the demo corpus's exact word spans (eSpeak NG).

Per split: mean start/end lag before the latency correction, the share of words whose corrected
centre lies inside the true span, mean absolute boundary error, and milliseconds per utterance.
The correction (ALIGN_LATENCY_S) was chosen from the *train* split's lag; the test split checks
that it carries over to voices and sentences the choice never saw.

    PYTHONPATH=src python benchmarks/bench_word_times.py [--limit 200]
"""

from __future__ import annotations

import argparse
import csv
import json
import time

import numpy as np
import soundfile as sf

from hri_emo.demo.corpus import build_corpus
from hri_emo.encoders.whisper_default import cache_dir
from hri_emo.inference.asr import ALIGN_LATENCY_S, WhisperASR, align_words


def measure(rows: list[dict], root, asr: WhisperASR) -> dict:
    found, seconds = [], 0.0
    for row in rows:
        wave, _ = sf.read(root / row["wav"], dtype="float32")
        start = time.perf_counter()
        timed = align_words(asr, wave, row["text"].split())
        seconds += time.perf_counter() - start
        for (s, e), truth in zip(timed.word_times, json.loads(row["word_spans"])):
            if truth is not None and np.isfinite(s):
                found.append((s, e, *truth))
    x = np.array(found)
    centre = x[:, :2].mean(axis=1)
    lag = ALIGN_LATENCY_S
    return {
        "utterances": len(rows),
        "words": len(x),
        "start_lag_s": round(float(np.mean(x[:, 0] + lag - x[:, 2])), 4),
        "end_lag_s": round(float(np.mean(x[:, 1] + lag - x[:, 3])), 4),
        "centre_in_span": round(float(np.mean((x[:, 2] <= centre) & (centre <= x[:, 3]))), 3),
        "boundary_error_s": round(float(np.mean(np.abs(x[:, :2] - x[:, 2:]))), 4),
        "ms_per_utterance": round(1000 * seconds / len(rows), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=200, help="utterances per split")
    args = parser.parse_args()
    manifest = build_corpus(cache_dir() / "demo-corpus-seed0")
    with manifest.open() as f:
        rows = list(csv.DictReader(f))
    asr = WhisperASR(threads=1)
    for split in ("train", "test"):
        chosen = [r for r in rows if r["split"] == split][: args.limit]
        print(split, json.dumps(measure(chosen, manifest.parent, asr)), flush=True)


if __name__ == "__main__":
    main()
