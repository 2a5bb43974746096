"""How good are the built-in aligner's word times? Whisper tiny.en forced alignment
(`hri_emo.inference.asr.align_words`) against the demo corpus's exact word spans (eSpeak NG).

Per split: mean start/end lag before the latency correction, the share of words whose corrected
centre lies inside the true span, mean absolute boundary error, and milliseconds per utterance.
The correction (ALIGN_LATENCY_S) was chosen from the *train* split's lag; the test split checks
that it carries over to voices and sentences the choice never saw.

    PYTHONPATH=src python benchmarks/bench_word_times.py [--limit 200]
    PYTHONPATH=src python benchmarks/bench_word_times.py --heard [--short-window] [--limit 60]

`--heard`: the built-in ASR's own word times of what it heard (test split), against a forced
alignment of the same heard words (what the recognizer did before it reused the ASR's times) and
against the exact spans where the ASR heard as many words as were spoken.
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


def centre_in_span(times: np.ndarray, spans: np.ndarray) -> float:
    centre = times.mean(axis=1)
    return float(np.mean((spans[:, 0] <= centre) & (centre <= spans[:, 1])))


def measure_heard(rows: list[dict], root, asr: WhisperASR) -> dict:
    """The ASR's word times against a forced alignment of the heard words and the truth."""
    between, inside_asr, inside_forced, seconds, heard_any, counted = [], [], [], 0.0, 0, 0
    for row in rows:
        wave, _ = sf.read(root / row["wav"], dtype="float32")
        heard = asr.transcribe(wave)
        if not heard.words:
            continue
        heard_any += 1
        start = time.perf_counter()
        forced = np.array(align_words(asr, wave, heard.words).word_times)
        seconds += time.perf_counter() - start
        own = np.array(heard.word_times)
        placed = np.isfinite(forced).all(axis=1)
        between.extend(np.abs(own[placed] - forced[placed]).ravel())
        spans = np.array(json.loads(row["word_spans"]), dtype=float)
        if len(spans) == len(own):  # the ASR heard as many words as were spoken
            counted += 1
            inside_asr.append(centre_in_span(own, spans))
            inside_forced.append(centre_in_span(forced[placed], spans[placed]))
    return {
        "utterances": len(rows),
        "heard": heard_any,
        "asr_vs_forced_s": round(float(np.mean(between)), 4),
        "asr_vs_forced_p90_s": round(float(np.percentile(between, 90)), 4),
        "same_word_count": counted,
        "centre_in_span_asr": round(float(np.mean(inside_asr)), 3),
        "centre_in_span_forced": round(float(np.mean(inside_forced)), 3),
        "forced_ms_per_utterance": round(1000 * seconds / max(heard_any, 1), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=200, help="utterances per split")
    parser.add_argument("--heard", action="store_true", help="the ASR's own word times")
    parser.add_argument("--short-window", action="store_true", help="with --heard")
    args = parser.parse_args()
    manifest = build_corpus(cache_dir() / "demo-corpus-seed0")
    with manifest.open() as f:
        rows = list(csv.DictReader(f))
    asr = WhisperASR(threads=1, short_window=args.short_window)
    if args.heard:
        chosen = [r for r in rows if r["split"] == "test"][: args.limit]
        print("test", json.dumps(measure_heard(chosen, manifest.parent, asr)), flush=True)
        return
    for split in ("train", "test"):
        chosen = [r for r in rows if r["split"] == split][: args.limit]
        print(split, json.dumps(measure(chosen, manifest.parent, asr)), flush=True)


if __name__ == "__main__":
    main()
