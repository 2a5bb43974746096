"""Corrupted copies of a split's inputs: transcripts, recordings, and the feature stores made
from them through a run's own encoders (cached, so every compared run reads the same ones)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from hri_emo.data.records import UtteranceRecord
from hri_emo.encoders import load_audio
from hri_emo.encoders.extract import extract_features
from hri_emo.errors import ConfigError
from hri_emo.robustness import corruptions as C
from hri_emo.robustness.conditions import Condition

log = logging.getLogger(__name__)


def has_recordings(records: list[UtteranceRecord]) -> bool:
    """True when every record points at an existing recording."""
    return bool(records) and all(
        r.wav_path is not None and Path(r.wav_path).is_file() for r in records
    )


def corrupt_texts(
    records: list[UtteranceRecord], condition: Condition, seed: int, transcriber: Any = None
) -> list[UtteranceRecord]:
    """Records whose transcripts carry the condition (records without text are kept as they
    are). `transcriber` (hri_emo.inference.asr) makes the real-ASR transcripts."""
    rng = np.random.default_rng(seed)
    vocabulary = sorted({w.lower() for r in records if r.text for w in r.text.split()})
    out = []
    for record in records:
        text = record.text
        if text and text.strip():
            if condition.corruption == "word-dropout":
                text = C.word_dropout(text, condition.level / 100, rng)
            elif condition.corruption == "word-swap":
                text = C.word_swap(text, condition.level / 100, vocabulary, rng)
            elif condition.corruption == "asr-like":
                text = C.asr_like(text, condition.level / 100, vocabulary, rng)
            elif condition.corruption == "whisper-asr":
                wave = load_audio(record.wav_path, record.start, record.end)
                if condition.level is not None:  # what Whisper hears in a noisy room
                    wave = C.white_noise(wave, condition.level, rng)
                text = transcriber.transcribe(wave).text.strip() or None
        out.append(replace(record, text=text))
    return out


def corrupt_recordings(
    records: list[UtteranceRecord],
    condition: Condition | Callable[[np.random.Generator], Condition],
    seed: int,
    folder: Path,
    babble_pool: int = 32,
) -> list[UtteranceRecord]:
    """Records pointing at corrupted copies of their recordings (float WAVs in `folder`,
    reused when present). `condition` may be a function drawing one per utterance (training
    augmentation at random levels). Babble comes from a pool of other utterances of the same
    records, so memory stays bounded on large splits."""
    folder.mkdir(parents=True, exist_ok=True)
    pool_rng = np.random.default_rng(seed)
    pool_ids = pool_rng.choice(len(records), size=min(babble_pool, len(records)), replace=False)
    pool: dict[str, np.ndarray] = {}
    out = []
    for index, record in enumerate(records):
        path = folder / f"{_safe(record.id)}.wav"
        if not path.is_file():
            rng = np.random.default_rng([seed, index])
            chosen = condition(rng) if callable(condition) else condition
            if chosen.corruption == "babble" and not pool:
                pool = {records[i].id: _load(records[i]) for i in pool_ids}
            others = [w for i, w in pool.items() if i != record.id]
            noisy = corrupt_wave(_load(record), chosen, rng, others)
            sf.write(path, noisy, C.SAMPLE_RATE, subtype="FLOAT")
        out.append(replace(record, wav_path=path, start=None, end=None))
    return out


def _load(record: UtteranceRecord) -> np.ndarray:
    return load_audio(record.wav_path, record.start, record.end)


def corrupt_wave(
    wave: np.ndarray, condition: Condition, rng: np.random.Generator, others: list[np.ndarray]
) -> np.ndarray:
    kind, level = condition.corruption, condition.level
    if kind == "white":
        return C.white_noise(wave, level, rng)
    if kind == "babble":
        return C.babble(wave, others, level, rng)
    if kind == "noise-only":
        return C.noise_only(wave, rng)
    if kind == "telephone":
        return C.telephone(wave, rng)
    if kind == "clip":
        return C.clipping(wave, level, rng)
    if kind == "gain":
        return C.gain(wave, level, rng)
    raise ConfigError(f"condition {condition.name}: not a waveform corruption")


def corrupted_store(
    records: list[UtteranceRecord],
    encoder: Any,
    cache: Path,
    condition: Condition,
    key: dict[str, Any],
) -> Path:
    """The feature store of `records` through `encoder`, cached under `cache` by the condition,
    the encoder's training metadata and the split's ids (so compared runs share it)."""
    digest = hashlib.sha1(
        json.dumps(
            {"key": key, "ids": [r.id for r in records]}, sort_keys=True, default=str
        ).encode()
    ).hexdigest()[:10]
    path = cache / f"{condition.name}-{encoder.modality}-{digest}.h5"
    report = extract_features(
        records, encoder, path, batch_size=16, on_error="skip", progress=False
    )
    if report.failed:
        log.warning(
            "%s: %d utterances could not be encoded (%s)",
            condition.name,
            len(report.failed),
            report.report_path,
        )
    return path


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
