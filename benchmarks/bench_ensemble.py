"""What a seed ensemble costs at inference: one member against the ensemble, same encoders.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/bench_ensemble.py MEMBER_RUN ENSEMBLE_RUN \\
        --audio x.wav --text "..." [--word-times '[[0, 0.3], ...]'] [--runs 30]

Both recognizers share one text and one audio encoder, so only the fusion model differs. Each
row is p50 / p95 in ms over `--runs` calls after 3 warm-up calls, on PyTorch and, when the runs
have been exported (`hri-emo export RUN`), on onnxruntime.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from hri_emo.checkpoint import resolve_checkpoint
from hri_emo.encoders import load_audio
from hri_emo.inference import EmotionRecognizer
from hri_emo.inference.onnx_backend import ONNX_NAME


def percentiles(call, runs: int) -> tuple[float, float, float]:
    """(p50, p95 end to end, p50 of the fusion model alone) in ms."""
    for _ in range(3):
        call()
    totals, fusion = [], []
    for _ in range(runs):
        start = time.perf_counter()
        result = call()
        totals.append(1000 * (time.perf_counter() - start))
        fusion.append(result.timings_ms["fusion_model"])
    return float(np.median(totals)), float(np.percentile(totals, 95)), float(np.median(fusion))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("member")
    parser.add_argument("ensemble")
    parser.add_argument("--audio", required=True)
    parser.add_argument("--text", required=True)
    parser.add_argument("--word-times", default=None, help="JSON list of [start, end]")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    wave = load_audio(args.audio)
    times = json.loads(args.word_times) if args.word_times else None
    backends = ["torch"]
    if all((resolve_checkpoint(p) / ONNX_NAME).is_file() for p in (args.member, args.ensemble)):
        backends.append("onnxruntime")
    for backend in backends:
        member = EmotionRecognizer.from_pretrained(args.member, asr="none", backend=backend)
        for name, path in (("one model", None), ("ensemble", Path(args.ensemble))):
            recognizer = member
            if path is not None:
                recognizer = EmotionRecognizer.from_pretrained(path, asr="none", backend=backend)
                recognizer._encoders = member._encoders  # the same encoders
            p50, p95, fusion = percentiles(
                lambda r=recognizer: r.classify(wave, args.text, word_times=times), args.runs
            )
            print(f"{backend:<12} {name:<10} end to end p50 {p50:7.1f}  p95 {p95:7.1f}  "
                  f"fusion model p50 {fusion:6.1f} ms", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
