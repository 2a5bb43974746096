"""Encoder throughput on this CPU: MiniLM sentences/s, Whisper and log-mel real-time factor.

    .venv/bin/python benchmarks/bench_encoders.py --repeats 20 --threads 2
    .venv/bin/python benchmarks/bench_encoders.py --long 600 --threads 2   # one long recording

Every figure is the median over `--repeats` timed calls after two warm-up calls. The Whisper
rows compare the two routes of the embedded tiny.en encoder (transformers after conversion vs
CTranslate2), each with the short window (only the 3 s of audio) and Whisper's 30 s window, and
check that the converted encoder reproduces CTranslate2's output on the same 30 s input.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from hri_emo.encoders import create_audio_encoder, create_text_encoder
from hri_emo.encoders.whisper_frames import whisper_hidden_states

SENTENCES = [
    "I can't believe you did that to me again.",
    "What a wonderful surprise, thank you so much!",
    "The meeting has been moved to Thursday afternoon.",
    "Please stop shouting, I am standing right here.",
    "I miss her every single day since she left.",
    "Honestly, this is the best news I have heard all year.",
    "Could you hand me the red box on the top shelf?",
    "That smell is absolutely disgusting, open a window.",
]


def median_seconds(call: Callable[[], object], repeats: int) -> float:
    for _ in range(2):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    """Harmonic, pitch-gliding signal with syllable-like bursts (stands in for a 3 s utterance)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16000)) / 16000
    phase = 2 * np.pi * np.cumsum(140 + 60 * np.sin(2 * np.pi * 0.7 * t)) / 16000
    wave = sum(np.sin(k * phase) / k for k in range(1, 8))
    wave = wave * np.clip(np.sin(2 * np.pi * 3 * t), 0, None) ** 0.5
    return (0.3 * wave / np.abs(wave).max() + 0.003 * rng.standard_normal(len(t))).astype(
        np.float32
    )


def bench_text(repeats: int) -> None:
    encoder = create_text_encoder("minilm", batch_size=32)
    batch32 = (SENTENCES * 4)[:32]
    one = median_seconds(lambda: encoder.encode(batch32[:1]), repeats)
    many = median_seconds(lambda: encoder.encode(batch32), repeats)
    print(f"text  minilm (word-level, 384-d)   batch  1: {1 / one:8.1f} sentences/s")
    print(f"text  minilm (word-level, 384-d)   batch 32: {32 / many:8.1f} sentences/s")


def bench_audio(repeats: int, threads: int, seconds: float = 3.0) -> None:
    wave = speech_like(seconds)
    routes = {
        "whisper-tiny-en-hf   (transformers, short window)": create_audio_encoder(
            "whisper-tiny-en-hf"
        ),
        "whisper-tiny-en-ct2  (CTranslate2,  short window)": create_audio_encoder(
            "whisper-tiny-en-ct2", threads=threads
        ),
        "whisper-tiny-en-hf   (transformers, 30 s window) ": create_audio_encoder(
            "whisper-tiny-en-hf", pad_to_30s=True
        ),
        "whisper-tiny-en-ct2  (CTranslate2,  30 s window) ": create_audio_encoder(
            "whisper-tiny-en-ct2", threads=threads, pad_to_30s=True
        ),
        "logmel (80 bands, 10 ms)                         ": create_audio_encoder("logmel"),
    }
    for label, encoder in routes.items():
        per_utt = median_seconds(lambda e=encoder: e.encode([wave]), repeats)
        print(
            f"audio {label} {seconds:.0f} s utterance: {1000 * per_utt:7.1f} ms "
            f"(real-time factor {per_utt / seconds:.4f})"
        )
    agreement(routes, wave)


def agreement(routes: dict, wave: np.ndarray) -> None:
    """Converted transformers encoder vs CTranslate2 on the same 30 s log-mel window."""
    hf, ct2 = (e for label, e in routes.items() if "30 s" in label)
    mels = ct2.log_mel([wave])  # (1, 80, 3000)
    with torch.no_grad():
        ours = whisper_hidden_states(hf.encoder, mels)[-1][0].numpy().ravel()
    theirs = ct2.run_encoder(mels)[0][0].numpy().ravel()
    cosine = ours @ theirs / np.linalg.norm(ours) / np.linalg.norm(theirs)
    print(
        f"agreement transformers vs CTranslate2 (30 s window, 1500x384): max |diff| "
        f"{np.abs(ours - theirs).max():.2e} (values up to {np.abs(theirs).max():.1f}), "
        f"cosine {cosine:.7f}"
    )
    labels = list(routes)
    short = routes[labels[0]].encode([wave])[0].features.ravel()  # (150 * 384,)
    padded = routes[labels[2]].encode([wave])[0].features.ravel()
    similarity = short @ padded / np.linalg.norm(short) / np.linalg.norm(padded)
    print(f"short window vs 30 s window, same 150 frames (transformers): cosine {similarity:.4f}")


def bench_long(seconds: float) -> None:
    """One recording of `seconds` through the embedded Whisper (transformers route), which
    encodes it in 30 s windows: wall time and real-time factor of a single call."""
    encoder = create_audio_encoder("whisper-tiny-en-hf")
    encoder.encode([speech_like(3.0)])  # warm-up
    wave = np.tile(speech_like(10.0), int(np.ceil(seconds / 10.0)))[: int(seconds * 16000)]
    start = time.perf_counter()
    [encoded] = encoder.encode([wave])
    elapsed = time.perf_counter() - start
    print(
        f"audio whisper-tiny-en-hf, one {seconds:.0f} s recording in 30 s windows: "
        f"{elapsed:.1f} s (real-time factor {elapsed / seconds:.4f}), "
        f"{encoded.features.shape[0]} frames"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--long", type=float, default=0.0, help="seconds: time one long recording")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"CPU threads {args.threads} of {os.cpu_count()}, load average {load}, torch "
        f"{torch.__version__}, median of {args.repeats} after 2 warm-up calls"
    )
    if args.long > 0:
        bench_long(args.long)
        return
    bench_text(args.repeats)
    bench_audio(args.repeats, args.threads)


if __name__ == "__main__":
    main()
