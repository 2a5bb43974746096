"""Latency of one utterance, part by part and end to end, against issue 14's targets.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_inference.py --runs 30 --threads 2

A 3.0 s eSpeak NG utterance (a sentence cut or padded with silence to `--seconds`) and its
transcript (in the "word times" rows also the words' exact spans, as a caller's own ASR would
give them: no forced alignment) go through the embedded encoders (MiniLM text, Whisper tiny.en
audio on CTranslate2) and an `hriemo-v2` model (untrained weights by default, or `--model`:
latency does not depend on the weights). "onnxruntime" rows run MiniLM's transformer and the
fusion model on onnxruntime (`backend="onnxruntime"`); Whisper stays on CTranslate2. Every
figure is p50 / p95 in ms over `--runs` timed calls after 3 warm-up calls. Thread counts are set
explicitly: torch.set_num_threads, onnxruntime intra-op threads, CTranslate2 intra_threads
(audio encoder and ASR) all equal `--threads`.

Targets: waveform + transcript -> emotions + explanation p50 <= 25 ms; without a transcript,
ASR included, p50 <= 350 ms.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from hri_emo.encoders import create_audio_encoder, create_text_encoder
from hri_emo.inference import EmotionRecognizer
from hri_emo.inference.asr import WhisperASR
from hri_emo.inference.batch import pad_features
from hri_emo.inference.onnx_backend import OnnxFusionModel, export_onnx
from hri_emo.inference.onnx_text import OnnxTextEncoder
from hri_emo.model import create_model, load_model
from hri_emo.synth import synthesize

SENTENCE = "Honestly, this is the best news I have heard all year, thank you."
OTHER_SENTENCES = ["I miss her every single day.", "That smell is absolutely disgusting!"]
TARGETS_MS = {
    "with transcript": 25.0,
    "with transcript, int8 Whisper": 25.0,
    "with transcript and word times": 25.0,
    "the same, int8 Whisper": 25.0,
    "ASR included": 350.0,
    "ASR included, short window": 350.0,
}


def percentiles(call: Callable[[], object], runs: int) -> tuple[float, float]:
    """(p50, p95) in ms of `runs` timed calls after 3 warm-up calls."""
    for _ in range(3):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - start))
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def profile(recognizer: EmotionRecognizer, wave: np.ndarray, text: str | None, runs: int) -> str:
    """p50 of each part the recognizer times (`timings_ms`) and of the rest of the call."""
    parts: dict[str, list[float]] = {}
    for _ in range(runs):
        start = time.perf_counter()
        result = recognizer.classify(wave, text)
        total = 1000 * (time.perf_counter() - start)
        for name, ms in {**result.timings_ms, "total": total}.items():
            parts.setdefault(name, []).append(ms)
        parts.setdefault("rest", []).append(total - sum(result.timings_ms.values()))
    return ", ".join(f"{name} {np.median(ms):.1f}" for name, ms in parts.items())


def utterance(seconds: float) -> tuple[np.ndarray, str, list]:
    """The waveform, its transcript and the words' exact spans (None past the cut)."""
    speech = synthesize(SENTENCE).resampled(16000)
    size = int(seconds * 16000)
    wave = np.pad(speech.wave, (0, max(0, size - len(speech.wave))))[:size]
    spans = [tuple(s) if s[1] <= seconds else None for s in speech.word_spans]
    return wave.astype(np.float32), SENTENCE, spans


def build(model_dir: Path, threads: int) -> tuple[EmotionRecognizer, ...]:
    """Recognizers sharing the encoders: torch, onnxruntime, onnxruntime with short-window ASR."""
    model = load_model(model_dir)
    text = create_text_encoder("minilm")
    audio = create_audio_encoder("whisper-tiny-en", threads=threads)
    asr = WhisperASR("auto", threads=threads).load()
    fusion = OnnxFusionModel(model_dir / "model.onnx", model.config, threads=threads)
    eager = EmotionRecognizer(model, text, audio, asr=asr)
    text_ort = OnnxTextEncoder(text, threads=threads)
    ort = EmotionRecognizer(model, text_ort, audio, asr=asr, onnx_model=fusion)
    short = WhisperASR("auto", threads=threads, short_window=True).load()
    ort_short = EmotionRecognizer(model, text_ort, audio, asr=short, onnx_model=fusion)
    return eager, ort, ort_short


def quantized(model_dir: Path, threads: int, config) -> OnnxFusionModel:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = model_dir / "model.int8.onnx"
    quantize_dynamic(str(model_dir / "model.onnx"), str(target), weight_type=QuantType.QInt8)
    return OnnxFusionModel(target, config, threads=threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="a model folder with model.onnx")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model_dir = Path(args.model) if args.model else Path(tempfile.mkdtemp()) / "hriemo-v2"
    if not args.model:
        torch.manual_seed(0)
        model = create_model("hriemo-v2", text_dim=384, audio_dim=384)
        export_onnx(model, model.save_pretrained(model_dir) / "model.onnx")
    eager, ort, ort_short = build(model_dir, args.threads)
    wave, text, spans = utterance(args.seconds)
    print(f"# {args.seconds:.1f} s utterance, {len(text.split())} words; threads={args.threads}; "
          f"load average {os.getloadavg()[0]:.1f}; runs={args.runs}")  # fmt: skip
    rows: list[tuple[str, float, float]] = []

    def measure(name: str, call: Callable[[], object]) -> None:
        p50, p95 = percentiles(call, args.runs)
        rows.append((name, p50, p95))
        print(f"{name:<58} p50 {p50:8.1f}   p95 {p95:8.1f}", flush=True)

    timings: dict[str, float] = {}
    text_in = eager.encode_texts([text], timings)
    audio_in = eager.encode_waves([wave], timings)
    inputs = {**pad_features("text", text_in), **pad_features("audio", audio_in)}
    measure("text encoder (MiniLM, torch), batch 1", lambda: eager.encode_texts([text], {}))
    measure("text encoder (MiniLM, onnxruntime), batch 1", lambda: ort.encode_texts([text], {}))
    measure("audio encoder (Whisper tiny.en, CTranslate2 fp32), batch 1",
            lambda: eager.encode_waves([wave], {}))  # fmt: skip
    with torch.no_grad():
        measure("fusion hriemo-v2, torch eager, batch 1", lambda: eager.model(**inputs))
    measure("fusion hriemo-v2, onnxruntime fp32, batch 1", lambda: ort.onnx_model(**inputs))
    int8 = quantized(model_dir, args.threads, eager.model.config)
    measure("fusion hriemo-v2, onnxruntime int8 (dynamic), batch 1", lambda: int8(**inputs))
    with torch.no_grad():
        out = eager.model(**inputs)
    words, frames = text_in[0].tokens, audio_in[0].frame_times
    audio8 = create_audio_encoder("whisper-tiny-en", threads=args.threads, compute_type="int8")
    measure("audio encoder, CTranslate2 int8 weights, batch 1", lambda: audio8.encode([wave]))
    measure("explanation + to_dict (post-processing)",
            lambda: eager.explain_output(out, 0, words, frames).to_dict())  # fmt: skip
    measure("ASR (faster-whisper int8, beam 1, word times), 30 s window",
            lambda: eager.asr.transcribe(wave))  # fmt: skip
    measure("ASR, short window (recording + 1 s)", lambda: ort_short.asr.transcribe(wave))
    measure("END TO END with transcript, torch", lambda: eager.classify(wave, text))
    measure("END TO END with transcript, onnxruntime", lambda: ort.classify(wave, text))
    fastest = EmotionRecognizer(ort.model, ort.text_encoder, audio8, onnx_model=ort.onnx_model)
    measure("  the same, int8 Whisper encoder", lambda: fastest.classify(wave, text))
    measure("END TO END with transcript and word times, onnxruntime",
            lambda: ort.classify(wave, text, word_times=spans))  # fmt: skip
    measure("  the same, int8 Whisper encoder ",
            lambda: fastest.classify(wave, text, word_times=spans))  # fmt: skip
    measure("END TO END without transcript (ASR), onnxruntime", lambda: ort.classify(wave, None))
    measure("  the same, short-window ASR", lambda: ort_short.classify(wave, None))

    for label, recognizer, given in (("with transcript", ort, text), ("ASR", ort_short, None)):
        print(f"where the time goes, END TO END {label} (p50 ms within the same calls): "
              + profile(recognizer, wave, given, args.runs))  # fmt: skip

    texts, waves = [text] * args.batch, [wave] * args.batch
    batch_inputs = {**pad_features("text", eager.encode_texts(texts, {})),
                    **pad_features("audio", eager.encode_waves(waves, {}))}  # fmt: skip
    b = args.batch
    measure(f"text encoder, torch, batch {b}", lambda: eager.encode_texts(texts, {}))
    measure(f"text encoder, onnxruntime, batch {b}", lambda: ort.encode_texts(texts, {}))
    measure(f"audio encoder, batch {b}", lambda: eager.encode_waves(waves, {}))
    with torch.no_grad():
        measure(f"fusion, torch eager, batch {b}", lambda: eager.model(**batch_inputs))
    measure(f"fusion, onnxruntime fp32, batch {b}", lambda: ort.onnx_model(**batch_inputs))
    measure(f"predict_batch with transcripts, onnxruntime, batch {b}",
            lambda: ort.predict_batch(waves, texts, batch_size=b))  # fmt: skip

    with torch.no_grad():
        diff = (eager.model(**batch_inputs).probabilities
                - int8(**batch_inputs).probabilities).abs().max()  # fmt: skip
        fp32 = (eager.model(**batch_inputs).probabilities
                - ort.onnx_model(**batch_inputs).probabilities).abs().max()  # fmt: skip
    print(f"max |probability difference| vs torch: onnxruntime fp32 {fp32:.1e}, int8 {diff:.1e}")
    quick = EmotionRecognizer(eager.model, eager.text_encoder, audio8)  # int8 audio only
    shift = max(
        abs(a - b)
        for w in [wave, *(synthesize(s).resampled(16000).wave for s in OTHER_SENTENCES)]
        for a, b in zip(
            eager.classify(w, text).probabilities.values(),
            quick.classify(w, text).probabilities.values(),
        )
    )
    print(f"max |probability difference| from int8 Whisper encoder features: {shift:.1e}")
    by_name = {name: p50 for name, p50, _ in rows}
    ends = {
        "with transcript": "END TO END with transcript, onnxruntime",
        "with transcript, int8 Whisper": "  the same, int8 Whisper encoder",
        "with transcript and word times": "END TO END with transcript and word times, onnxruntime",
        "the same, int8 Whisper": "  the same, int8 Whisper encoder ",
        "ASR included": "END TO END without transcript (ASR), onnxruntime",
        "ASR included, short window": "  the same, short-window ASR",
    }
    for label, name in ends.items():
        p50, target = by_name[name], TARGETS_MS[label]
        verdict = "met" if p50 <= target else "MISSED"
        print(f"target {label}: p50 {p50:.1f} ms vs {target:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
