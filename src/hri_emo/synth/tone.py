"""A voice-like test signal (no synthesiser needed): for warm-ups and smoke tests."""

from __future__ import annotations

import numpy as np


def synthetic_voice(seconds: float = 2.0, sample_rate: int = 16000) -> np.ndarray:
    """A voiced, pitch-gliding harmonic signal with syllable-like amplitude bursts."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    pitch = 140 + 60 * np.sin(2 * np.pi * 0.7 * t)  # Hz
    phase = 2 * np.pi * np.cumsum(pitch) / sample_rate
    wave = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None) ** 0.5
    return (0.3 * wave * envelope / np.abs(wave).max()).astype(np.float32)
