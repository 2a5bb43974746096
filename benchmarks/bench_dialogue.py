"""What a dialogue turn costs over a lone utterance: the past turns as context.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_dialogue.py --runs 50 --turns 3

Transcripts only (embedded MiniLM), an untrained `hriemo-v2` with `context_turns=--turns`
(latency does not depend on the weights). "alone" is `recognizer.classify(None, text)`;
"dialogue" is `dialogue.classify(text=...)` with a full window of k past turns. p50 / p95 in ms
over `--runs` calls after 3 warm-up calls; plus the state a session holds.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch

from hri_emo.inference import EmotionRecognizer
from hri_emo.model import create_model

TEXTS = ["We won the final tonight!", "okay", "and then what happened?", "I am so tired."]


def timed(call, runs: int) -> tuple[float, float]:
    for i in range(3):
        call(i)
    times = []
    for i in range(runs):
        start = time.perf_counter()
        call(i)
        times.append(1000 * (time.perf_counter() - start))
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = create_model("hriemo-v2", text_dim=384, audio_dim=384, context_turns=args.turns)
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        recognizer = EmotionRecognizer.from_pretrained(folder, asr="none")
    dialogue = recognizer.dialogue()
    alone = timed(lambda i: recognizer.classify(None, TEXTS[i % len(TEXTS)]), args.runs)
    turn = timed(lambda i: dialogue.classify(text=TEXTS[i % len(TEXTS)]), args.runs)
    print(f"threads={args.threads} runs={args.runs} k={args.turns}")
    print(f"alone     p50 {alone[0]:6.1f} ms  p95 {alone[1]:6.1f} ms")
    print(f"dialogue  p50 {turn[0]:6.1f} ms  p95 {turn[1]:6.1f} ms  ({len(dialogue)} past turns)")
    print(f"session state: {len(dialogue)} turns, {dialogue.nbytes} bytes of features")


if __name__ == "__main__":
    main()
