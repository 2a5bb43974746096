"""Test signals shared by the hostile-input sweeps: a tone, eSpeak speech, white noise."""

from __future__ import annotations

import numpy as np

RATE = 16000


def tone(seconds: float, rate: int = RATE, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(
        np.float32
    ) / 2


def voice(seconds: float, rate: int = RATE) -> np.ndarray:
    """Speech (eSpeak NG) at `rate`, cut or padded with silence to `seconds`."""
    import soxr

    from hri_emo.synth import synthesize

    spoken = synthesize("I am so happy to see you again today")
    wave = soxr.resample(spoken.wave, spoken.sample_rate, rate).astype(np.float32)
    return np.pad(wave, (0, max(0, int(seconds * rate) - len(wave))))[: int(seconds * rate)]


def noise(seconds: float, amplitude: float = 0.3) -> np.ndarray:
    """White noise: no speech in it."""
    rng = np.random.default_rng(0)
    return rng.uniform(-amplitude, amplitude, int(seconds * RATE)).astype(np.float32)
