"""A noisy copy of a corpus's audio feature store, for training with waveform-noise augmentation.

Each utterance of the chosen split gets one noise kind (white or babble) at an SNR drawn
uniformly from a range (or, for a `noise_only` share, its recording replaced by white noise of
the same power), and is encoded through the same encoder as the clean store (read from that
store's metadata), so `data.noisy_audio_features` can stand in for it item by item. What each
item got is written beside the store (`conditions_path(out)`: id -> noise kind and SNR in dB,
null for noise only); training reads it as the audio-reliability targets (model/reliability.py).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np

from hri_emo.data.records import Corpus
from hri_emo.data.store.feature_store import FeatureStore
from hri_emo.data.store.mixed_source import conditions_path
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
    noise_only: float = 0.0,
    split: str = "train",
    seed: int = 0,
    batch_size: int = 8,
    progress: bool = True,
) -> ExtractionReport:
    """Encode noisy copies of `split`'s recordings into `out` with `like`'s encoder."""
    low, high = (check_range("snr", v, SNR_RANGE_DB, " dB") for v in snr_range)
    noise_only = check_range("--noise-only", noise_only, (0.0, 1.0))
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
        if rng.random() < noise_only:
            return Condition("noise-only", "wave", "audio noise", "noise-only")
        return Condition(f"{kind}-{snr:.1f}db", "wave", "audio noise", kind, snr)

    out = Path(out)
    folder = out.with_name(out.name + ".wavs")
    noisy = corrupt_recordings(records, draw, seed, folder)
    report = extract_features(noisy, encoder, out, batch_size=batch_size, progress=progress)
    drawn = {  # the same draws corrupt_recordings made (its generator per item)
        record.id: draw(np.random.default_rng([seed, i])) for i, record in enumerate(records)
    }
    conditions = {i: {"noise": c.corruption, "snr_db": c.level} for i, c in drawn.items()}
    target = conditions_path(out)
    target.with_suffix(".tmp").write_text(json.dumps(conditions))
    target.with_suffix(".tmp").replace(target)
    shutil.rmtree(folder, ignore_errors=True)
    return report
