"""Corruptions of one input channel: noisy or degraded audio, imperfect transcripts, noisy features.

Waveform corruptions act on float32 mono 16 kHz samples and come from `audiomentations` (white
noise, level, clipping, filters) and `soxr` (the 8 kHz telephone round trip); babble mixes other
utterances of the same split. Text corruptions act on the transcript's whitespace words. Feature
noise acts on a batch of (standardised) feature sequences, for corpora without recordings.

Every function takes an explicit `numpy.random.Generator`, so a condition is reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import soxr

from hri_emo.errors import ConfigError
from hri_emo.training.corruption import SNR_RANGE_DB, check_range, feature_noise

__all__ = ["SNR_RANGE_DB", "check_range", "feature_noise"]  # feature-space: training/corruption

SAMPLE_RATE = 16_000
GAIN_RANGE_DB = (-60.0, 20.0)


def signal_power(wave: np.ndarray) -> float:
    return float(np.mean(np.asarray(wave, dtype=np.float64) ** 2))


def measured_snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    """SNR (dB) of `noisy` against its clean source."""
    noise = np.asarray(noisy, dtype=np.float64) - clean
    return 10.0 * np.log10(signal_power(clean) / max(signal_power(noise), 1e-20))


def mix_at_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`clean` plus `noise` scaled so that the mixture has exactly `snr_db`."""
    scale = np.sqrt(signal_power(clean) / (max(signal_power(noise), 1e-20) * 10 ** (snr_db / 10)))
    return (clean + scale * noise).astype(np.float32)


def white_noise(wave: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian white noise at `snr_db` (audiomentations' AddGaussianSNR, fixed SNR)."""
    from audiomentations import AddGaussianSNR

    check_range("snr_db", snr_db, SNR_RANGE_DB, " dB")
    _seed_numpy(rng)
    transform = AddGaussianSNR(min_snr_db=snr_db, max_snr_db=snr_db, p=1.0)
    return transform(samples=np.asarray(wave, dtype=np.float32), sample_rate=SAMPLE_RATE)


NOISE_ONLY_RMS = 0.05  # about -26 dBFS, a fixed level: the recording's loudness must not leak


def noise_only(wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The recording replaced by Gaussian white noise of the same length at a fixed level: no
    speech left, and nothing of the voice (not even its loudness) in what replaces it."""
    return (rng.standard_normal(len(wave)) * NOISE_ONLY_RMS).astype(np.float32)


def babble(
    wave: np.ndarray,
    others: Sequence[np.ndarray],
    snr_db: float,
    rng: np.random.Generator,
    talkers: int = 4,
) -> np.ndarray:
    """`talkers` other utterances (looped or cut to this one's length, summed) at `snr_db`."""
    check_range("snr_db", snr_db, SNR_RANGE_DB, " dB")
    if not others:
        raise ConfigError("babble noise needs other utterances of the same split")
    picks = rng.choice(len(others), size=min(talkers, len(others)), replace=False)
    noise = np.zeros(len(wave), dtype=np.float64)
    for index in picks:
        other = np.asarray(others[index], dtype=np.float64)
        repeats = int(np.ceil(len(wave) / max(len(other), 1)))
        start = int(rng.integers(0, max(len(other), 1)))
        noise += np.roll(np.tile(other, repeats), -start)[: len(wave)]
    return mix_at_snr(np.asarray(wave, dtype=np.float32), noise, snr_db)


def telephone(wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """8 kHz telephone band: 300–3400 Hz band-pass, down to 8 kHz and back (soxr)."""
    from audiomentations import HighPassFilter, LowPassFilter

    _seed_numpy(rng)
    x = np.asarray(wave, dtype=np.float32)
    x = HighPassFilter(min_cutoff_freq=300.0, max_cutoff_freq=300.0, p=1.0)(x, SAMPLE_RATE)
    x = LowPassFilter(min_cutoff_freq=3400.0, max_cutoff_freq=3400.0, p=1.0)(x, SAMPLE_RATE)
    narrow = soxr.resample(x, SAMPLE_RATE, 8000)
    return soxr.resample(narrow, 8000, SAMPLE_RATE)[: len(wave)].astype(np.float32)


def clipping(wave: np.ndarray, percentile: float, rng: np.random.Generator) -> np.ndarray:
    """Hard clipping of the loudest `percentile` % of samples (audiomentations)."""
    from audiomentations import ClippingDistortion

    level = int(check_range("clipping percentile", percentile, (0, 90), " %"))
    _seed_numpy(rng)
    transform = ClippingDistortion(
        min_percentile_threshold=level, max_percentile_threshold=level, p=1.0
    )
    return transform(samples=np.asarray(wave, dtype=np.float32), sample_rate=SAMPLE_RATE)


def gain(wave: np.ndarray, gain_db: float, rng: np.random.Generator) -> np.ndarray:
    """A level change of `gain_db` (audiomentations' Gain)."""
    from audiomentations import Gain

    check_range("gain_db", gain_db, GAIN_RANGE_DB, " dB")
    _seed_numpy(rng)
    transform = Gain(min_gain_db=gain_db, max_gain_db=gain_db, p=1.0)
    return transform(samples=np.asarray(wave, dtype=np.float32), sample_rate=SAMPLE_RATE)


def word_dropout(text: str, rate: float, rng: np.random.Generator) -> str:
    """Each word is deleted with probability `rate`; at least one word is kept."""
    check_range("word dropout rate", rate, (0.0, 0.95))
    words = text.split()
    if not words:
        return text
    keep = rng.random(len(words)) >= rate
    if not keep.any():
        keep[rng.integers(len(words))] = True
    return " ".join(w for w, k in zip(words, keep) if k)


def word_swap(text: str, rate: float, vocabulary: Sequence[str], rng: np.random.Generator) -> str:
    """Each word replaced with probability `rate` by a different random vocabulary word (the
    word count stays: random substitution without deletions or insertions)."""
    check_range("word swap rate", rate, (0.0, 0.95))
    out = []
    for word in text.split():
        others = [v for v in vocabulary if v != word.lower()]
        swap = rng.random() < rate and others
        out.append(str(others[int(rng.integers(len(others)))]) if swap else word)
    return " ".join(out)


def asr_like(text: str, rate: float, vocabulary: Sequence[str], rng: np.random.Generator) -> str:
    """Simulated recognition errors at word error rate ≈ `rate`: of the corrupted words, 60 %
    are substituted by a similar-looking vocabulary word, 20 % deleted, and 20 % get an extra
    short word inserted after them (the usual S > D ≈ I mix of ASR errors)."""
    check_range("ASR-like error rate", rate, (0.0, 0.95))
    out: list[str] = []
    for word in text.split():
        if rng.random() >= rate:
            out.append(word)
            continue
        kind = rng.random()
        if kind < 0.6:
            out.append(_similar_word(word, vocabulary, rng))
        elif kind < 0.8:
            continue
        else:
            out += [word, str(rng.choice(["a", "the", "uh", "and", "of", "to"]))]
    return " ".join(out) if out else text.split()[0]


def _similar_word(word: str, vocabulary: Sequence[str], rng: np.random.Generator) -> str:
    """A different vocabulary word sharing the first letter and about the same length."""
    lowered = word.lower()
    near = [
        v
        for v in vocabulary
        if v != lowered and v[:1] == lowered[:1] and abs(len(v) - len(lowered)) <= 2
    ]
    pool = near or [v for v in vocabulary if v != lowered] or [lowered]
    return str(pool[int(rng.integers(len(pool)))])


def _seed_numpy(rng: np.random.Generator) -> None:
    """audiomentations draws from numpy's global generator: seed it from `rng`."""
    np.random.seed(int(rng.integers(2**31 - 1)))
