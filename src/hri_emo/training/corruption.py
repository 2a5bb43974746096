"""Training-time corruption: the robustness conditions, at random levels, on a fraction of the
training items, so the gate can learn to lower beta on noisy audio (`train.corruption`).

In the training step (like modality dropout), each item is corrupted with probability
`fraction`, by one of the enabled kinds chosen at random:
- "audio_noise": Gaussian noise on its audio features, per-dimension SNR drawn uniformly from
  `audio_noise_snr` dB (relative to each dimension's std over the batch's valid positions:
  1 for standardised features);
- "word_dropout": each of its words is masked out with a rate drawn from `word_dropout`.
Waveform noise cannot be made in feature space: pre-extract a noisy copy of the audio store
(`hri-emo extract-noisy`) and name it in `data.noisy_audio_features`; a `noisy_audio_fraction`
of the training items (fixed per item) then read their features from it.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor

from hri_emo.data.batch import Batch
from hri_emo.errors import ConfigError

SNR_RANGE_DB = (-10.0, 60.0)


def check_range(name: str, value: float, bounds: tuple[float, float], unit: str = "") -> float:
    """`value` as a float inside `bounds`, or a ConfigError naming `name`."""
    low, high = bounds
    if not (low <= float(value) <= high):
        raise ConfigError(f"{name}: expected {low:g}..{high:g}{unit}, got {value}")
    return float(value)


def feature_noise(
    features: torch.Tensor,
    mask: torch.Tensor,
    snr_db: float,
    std: torch.Tensor,
    generator: torch.Generator,
) -> torch.Tensor:
    """Gaussian noise with per-dimension std = `std` · 10^(−snr/20) on valid positions.

    `features` (B, L, D), `mask` (B, L), `std` (D,): the training std of each dimension (1 for
    standardised features), so `snr_db` is the per-dimension signal-to-noise ratio.
    """
    check_range("snr_db", snr_db, SNR_RANGE_DB, " dB")
    noise = torch.randn(features.shape, generator=generator, dtype=features.dtype)
    scale = std.to(features.dtype) * 10 ** (-snr_db / 20)
    return features + noise.to(features.device) * scale * mask[..., None].to(features.dtype)


def corrupt_batch(
    batch: Batch,
    fraction: float,
    audio_noise_snr: tuple[float, float] | None,
    word_dropout: tuple[float, float] | None,
    generator: torch.Generator,
) -> Batch:
    """A copy of `batch` with a random `fraction` of its items corrupted (see module doc)."""
    kinds = [k for k, on in (("audio", audio_noise_snr), ("text", word_dropout)) if on]
    kinds = [k for k in kinds if getattr(batch, k) is not None]
    if fraction <= 0 or not kinds:
        return batch
    size = len(batch)
    chosen = torch.rand(size, generator=generator) < fraction  # (B,)
    kind = torch.randint(len(kinds), (size,), generator=generator)  # (B,)
    level = torch.rand(size, generator=generator)  # (B,) position inside the level range
    if "audio" in kinds:
        items = chosen & (kind == kinds.index("audio"))
        batch = _noisy_audio(batch, items, level, audio_noise_snr, generator)
    if "text" in kinds:
        items = chosen & (kind == kinds.index("text"))
        batch = _drop_words(batch, items, level, word_dropout, generator)
    return batch


def _noisy_audio(batch: Batch, items: Tensor, level: Tensor, snr_range, generator) -> Batch:
    if not items.any():
        return batch
    low, high = snr_range
    audio, mask = batch.audio, batch.audio_mask
    valid = audio[mask]  # (N, D)
    std = valid.std(dim=0) if len(valid) > 1 else torch.ones(audio.shape[-1])
    noisy = audio.clone()
    for i in torch.nonzero(items).flatten().tolist():
        snr = float(low + (high - low) * level[i])
        noisy[i : i + 1] = feature_noise(audio[i : i + 1], mask[i : i + 1], snr, std, generator)
    return replace(batch, audio=noisy)


def _drop_words(batch: Batch, items: Tensor, level: Tensor, rate_range, generator) -> Batch:
    if not items.any():
        return batch
    low, high = rate_range
    mask = batch.text_mask.clone()  # (B, Lt)
    rates = low + (high - low) * level  # (B,)
    drop = torch.rand(mask.shape, generator=generator) < rates[:, None]
    drop &= items[:, None] & mask
    kept = (mask & ~drop).any(dim=1)
    drop[~kept] = False  # an item keeps at least its words if all would go
    mask &= ~drop
    text = batch.text * mask[..., None].to(batch.text.dtype)
    return replace(batch, text=text, text_mask=mask)
