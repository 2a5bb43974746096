"""A noisy copy of a corpus's audio feature store, for training with waveform-noise augmentation.

Each utterance of the chosen split gets one noise kind (white or babble) at an SNR drawn
uniformly from a range, and is encoded through the same encoder as the clean store (read from
that store's metadata), so `data.noisy_audio_features` can stand in for it item by item.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np

from hri_emo.data.records import Corpus
from hri_emo.data.store.feature_store import FeatureStore
from hri_emo.encoders import create_audio_encoder
from hri_emo.encoders.extract import ExtractionReport, extract_features
from hri_emo.errors import ConfigError
from hri_emo.inference.features import encoder_arguments
from hri_emo.robustness.conditions import Condition
from hri_emo.robustness.corruptions import SNR_RANGE_DB, check_range
from hri_emo.robustness.inputs import corrupt_recordings, has_recordings

NOISE_KINDS = ("white", "babble")


def extract_noisy_copy(
    corpus: Corpus,
    like: str | Path,
    out: str | Path,
    kinds: tuple[str, ...] = NOISE_KINDS,
    snr_range: tuple[float, float] = (0.0, 20.0),
    split: str = "train",
    seed: int = 0,
    batch_size: int = 8,
    progress: bool = True,
) -> ExtractionReport:
    """Encode noisy copies of `split`'s recordings into `out` with `like`'s encoder."""
    low, high = (check_range("snr", v, SNR_RANGE_DB, " dB") for v in snr_range)
    if low > high:
        raise ConfigError(f"--snr: expected MIN:MAX with MIN <= MAX, got {low:g}:{high:g}")
    unknown = sorted(set(kinds) - set(NOISE_KINDS))
    if unknown or not kinds:
        raise ConfigError(f"--noise: expected some of {', '.join(NOISE_KINDS)}, got {kinds}")
    records = corpus.split(split)
    if not has_recordings(records):
        raise ConfigError(
            f"split {split!r} of {corpus.name!r} has no readable recordings for every utterance; "
            "waveform noise needs them (feature noise: train.corruption.audio_noise_snr)"
        )
    with FeatureStore.open(like) as store:
        metadata = asdict(store.metadata)
    name, kwargs = encoder_arguments("audio", metadata)
    encoder = create_audio_encoder(name, **kwargs)

    def draw(rng: np.random.Generator) -> Condition:
        kind = str(rng.choice(kinds))
        snr = float(rng.uniform(low, high))
        return Condition(f"{kind}-{snr:.1f}db", "wave", "audio noise", kind, snr)

    out = Path(out)
    folder = out.with_name(out.name + ".wavs")
    noisy = corrupt_recordings(records, draw, seed, folder)
    report = extract_features(noisy, encoder, out, batch_size=batch_size, progress=progress)
    shutil.rmtree(folder, ignore_errors=True)
    return report
