"""Offline throughput of `hri-emo predict` over a folder of 3 s recordings: utterances per second
by batch size, with transcripts beside the wavs and without them (ASR).

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_predict_throughput.py --count 32

Runs the CLI's own code (`hri-emo predict` arguments, `hri_emo.cli.predict.predict_many`:
reading, batching, writing CSV) in this process on an untrained `hriemo-v2` (weights do not
change the cost). The recognizer is loaded and warmed up once per backend, outside the timing,
as a long-running job would; `--threads` is given to torch, CTranslate2 and onnxruntime.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from hri_emo.cli.main import build_parser
from hri_emo.cli.predict import predict_many
from hri_emo.encoders import create_audio_encoder
from hri_emo.inference import EmotionRecognizer
from hri_emo.inference.asr import WhisperASR
from hri_emo.inference.onnx_backend import OnnxFusionModel, export_onnx
from hri_emo.model import create_model
from hri_emo.synth import synthesize

SENTENCES = [
    "I can't believe you did that to me again, really.",
    "What a wonderful surprise, thank you so much for this!",
    "The meeting has been moved to Thursday afternoon at four.",
    "Please stop shouting, I am standing right here next to you.",
]


def make_folder(root: Path, count: int, transcripts: bool) -> Path:
    folder = root / ("with_text" if transcripts else "audio_only")
    folder.mkdir()
    for i in range(count):
        sentence = SENTENCES[i % len(SENTENCES)]
        speech = synthesize(sentence)
        wave = speech.resampled(16000).wave
        wave = np.pad(wave, (0, max(0, 48000 - len(wave))))[:48000]  # 3.0 s
        sf.write(folder / f"u{i:03d}.wav", wave, 16000)
        if transcripts:
            (folder / f"u{i:03d}.txt").write_text(sentence)
    return folder


def timed_predict(recognizer, model: Path, folder: Path, out: Path, batch: int) -> float:
    argv = ["predict", str(model), "--input", str(folder), "--output", str(out)]
    args = build_parser().parse_args([*argv, "--batch-size", str(batch)])
    start = time.perf_counter()
    assert predict_many(recognizer, args) == 0
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batches", default="1,4,16,32")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = Path(tempfile.mkdtemp())
    torch.manual_seed(0)
    model = create_model("hriemo-v2", text_dim=384, audio_dim=384).eval()
    folder = model.save_pretrained(root / "m")
    export_onnx(model, folder / "model.onnx")
    with_text = make_folder(root, args.count, transcripts=True)
    audio_only = make_folder(root, max(4, args.count // 4), transcripts=False)
    print(f"# {args.count} x 3.0 s wavs; threads={args.threads}; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("| input | backend | batch | utterances / s |")
    print("|---|---|---|---|")
    for backend in ("torch", "onnxruntime"):
        fusion = None
        if backend == "onnxruntime":
            fusion = OnnxFusionModel(folder / "model.onnx", model.config, threads=args.threads)
        recognizer = EmotionRecognizer(
            model,
            audio_encoder=create_audio_encoder("whisper-tiny-en", threads=args.threads),
            asr=WhisperASR(threads=args.threads),
            onnx_model=fusion,
        )
        timed_predict(recognizer, folder, audio_only, root / "warm.csv", 4)  # loads everything
        for batch in map(int, args.batches.split(",")):
            seconds = timed_predict(recognizer, folder, with_text, root / "out.csv", batch)
            print(f"| wav + transcript | {backend} | {batch} | {args.count / seconds:.1f} |",
                  flush=True)  # fmt: skip
    count = len(list(audio_only.glob("*.wav")))
    for batch in (1, count):
        seconds = timed_predict(recognizer, folder, audio_only, root / "asr.csv", batch)
        print(f"| wav only (ASR, 30 s window) | onnxruntime | {batch} | {count / seconds:.2f} |",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
