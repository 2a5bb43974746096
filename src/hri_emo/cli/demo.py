"""`hri-emo demo`: run the embedded encoders and a fusion model end to end, offline."""

from __future__ import annotations

import argparse

import numpy as np

DEFAULT_TEXT = "I can't believe you did that, this is wonderful news!"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="recognise emotions in one utterance with the embedded (offline) encoders",
        description=(
            "Runs MiniLM (text) + Whisper tiny.en (audio) + an HRI-EMO model on one utterance and "
            "prints probabilities, beta and the words/frames behind them. Without --model the "
            "fusion weights are untrained (a smoke run of the whole path)."
        ),
    )
    parser.add_argument("--text", default=DEFAULT_TEXT, help="transcript ('' for audio only)")
    parser.add_argument(
        "--wav", default=None, help="recording (any rate/channels; default: synthetic)"
    )
    parser.add_argument("--no-audio", action="store_true", help="text only")
    parser.add_argument(
        "--model", default=None, help="a run folder, checkpoint folder or save_pretrained folder"
    )
    parser.add_argument("--preset", default="hriemo-v2", help="preset when no --model is given")
    parser.set_defaults(func=run_demo)


def synthetic_voice(seconds: float = 2.0, sample_rate: int = 16000) -> np.ndarray:
    """A voiced, pitch-gliding harmonic signal with syllable-like amplitude bursts."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    pitch = 140 + 60 * np.sin(2 * np.pi * 0.7 * t)  # Hz
    phase = 2 * np.pi * np.cumsum(pitch) / sample_rate
    wave = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None) ** 0.5
    return (0.3 * wave * envelope / np.abs(wave).max()).astype(np.float32)


def run_demo(args: argparse.Namespace) -> int:
    import torch

    from hri_emo.encoders import load_audio
    from hri_emo.inference import EmotionRecognizer
    from hri_emo.model import create_model

    if args.model:
        recognizer = EmotionRecognizer.from_pretrained(args.model)
    else:
        torch.manual_seed(0)
        model = create_model(args.preset, text_dim=384, audio_dim=384)
        print(f"[untrained {args.preset} weights: a smoke run of the full path]")
        recognizer = EmotionRecognizer(model)
    wave = None
    if not args.no_audio:
        wave = load_audio(args.wav) if args.wav else synthetic_voice()
    result = recognizer.classify(wave, args.text or None)
    print(f"text : {args.text!r}")
    print(f"audio: {args.wav or ('none' if wave is None else 'synthetic 2.0 s voice-like signal')}")
    print("probabilities:")
    for emotion, prob in sorted(result.probabilities.items(), key=lambda kv: -kv[1]):
        top = ", ".join(f"{w} ({a:.2f})" for w, a in result.top_words(emotion))
        print(f"  {emotion:<10} {prob:.3f}   driven by: {top or '-'}")
    print(f"decision ({result.task}): {', '.join(result.predicted) or 'none above threshold'}")
    if result.beta_mean is not None:
        print(f"beta (audio trust, 0..1): {result.beta_mean:.3f}")
    for word, span in zip(result.words, result.word_to_audio):
        if span is not None:
            print(f"  '{word}' aligns best with audio {span[0]:.2f}-{span[1]:.2f} s")
    print("time (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in result.timings_ms.items()))
    return 0
