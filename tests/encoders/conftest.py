"""Tiny randomly initialised Hugging Face models saved offline, and real audio files on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


@pytest.fixture(scope="session")
def tiny_wavlm_dir(tmp_path_factory) -> Path:
    """A 2-layer, 16-d WavLM (standard 20 ms / 25 ms conv front end) and its feature extractor."""
    import torch
    from transformers import Wav2Vec2FeatureExtractor, WavLMConfig, WavLMModel

    folder = tmp_path_factory.mktemp("tiny_wavlm")
    torch.manual_seed(0)
    config = WavLMConfig(
        hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
        conv_dim=(8,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
        num_buckets=16, max_bucket_distance=64,
    )  # fmt: skip
    WavLMModel(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(return_attention_mask=True).save_pretrained(folder)
    return folder


def _voice(
    seconds: float = 2.0, sr: int = 16000, pitch: float = 140.0, seed: int = 0
) -> np.ndarray:
    """A voiced, pitch-gliding harmonic signal with syllable-like bursts (speech-like)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = pitch + 0.4 * pitch * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    wave = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None) ** 0.5
    wave = 0.3 * wave * envelope / np.abs(wave).max() + 0.003 * rng.standard_normal(len(t))
    return wave.astype(np.float32)


def _write_wav(path: Path, samples: np.ndarray, sr: int = 16000, subtype: str = "PCM_16") -> Path:
    sf.write(str(path), samples, sr, subtype=subtype)
    return path


@pytest.fixture
def voice():
    """voice(seconds=2.0, sr=16000, pitch=140.0, seed=0) -> (N,) float32 speech-like signal."""
    return _voice


@pytest.fixture
def write_wav():
    """write_wav(path, samples, sr=16000, subtype="PCM_16") -> path of a real WAV file."""
    return _write_wav


@pytest.fixture(scope="session")
def whisper_cache(tmp_path_factory) -> Path:
    """Cache folder for the converted embedded Whisper encoder (converted once per session)."""
    return tmp_path_factory.mktemp("hri_emo_cache")
