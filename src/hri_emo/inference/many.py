"""Many utterances at once: ASR per recording, then each encoder and the fusion model per batch.

`EmotionRecognizer.predict_batch` calls `predict_batch` here; each item takes the steps of
`inference/batch.py` (admission, `usable_modalities`, `explain_items`) that `classify` takes
for one. A bad item raises a DataError naming its index.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from hri_emo.data.features import MODALITIES, UtteranceFeatures
from hri_emo.encoders.audio_io import TARGET_SAMPLE_RATE
from hri_emo.errors import DataError
from hri_emo.inference import batch
from hri_emo.inference.asr import Transcript
from hri_emo.inference.timing import given_times
from hri_emo.result import UtteranceExplanation

EmotionRecognizer = Any  # the recognizer calls in: no import back (that would be a cycle)
log = logging.getLogger(__name__)


def predict_batch(
    recognizer: EmotionRecognizer,
    waves: list[np.ndarray | None],
    texts: list[str | None],
    *,
    transcribe: bool = True,
    batch_size: int = 16,
    word_times: list[Any] | None = None,
) -> list[UtteranceExplanation]:
    """One UtteranceExplanation per (wave, text) pair; a bad item raises a DataError naming it.
    `word_times`: per item, its transcript's word spans or None (`classify`'s `word_times`)."""
    if len(waves) != len(texts):
        raise DataError(f"predict_batch: {len(waves)} recordings but {len(texts)} transcripts")
    word_times = [None] * len(waves) if word_times is None else list(word_times)
    if len(word_times) != len(waves):
        raise DataError(f"predict_batch: {len(waves)} items but {len(word_times)} word_times")
    if batch_size < 1:
        raise DataError(f"batch_size must be >= 1, got {batch_size}")
    results: list[UtteranceExplanation] = []
    for first in range(0, len(waves), batch_size):
        chunk = slice(first, first + batch_size)
        results += _predict_chunk(
            recognizer, waves[chunk], texts[chunk], word_times[chunk], transcribe, first
        )
    return results


def _predict_chunk(
    recognizer: EmotionRecognizer,
    waves: list[np.ndarray | None],
    texts: list[str | None],
    word_times: list[Any],
    transcribe: bool,
    offset: int,
) -> list[UtteranceExplanation]:
    spec, timings = recognizer.spec, {}
    waves, texts = list(waves), list(texts)
    heard: list[Transcript | None] = [None] * len(waves)
    spoken: list[Transcript | None] = [None] * len(waves)  # transcripts with word times
    notes: list[list[str]] = [[] for _ in waves]
    for i, (wave, text) in enumerate(zip(waves, texts)):
        item = f"item {offset + i}"
        text = batch.check_text(text, f"{item}: text")
        text = text if text and text.strip() else None
        if wave is not None:
            wave = batch.prepare_wave(wave, TARGET_SAMPLE_RATE, f"{item}: the recording")
        if wave is None and text is None:
            raise DataError(f"{item}: need a transcript, a recording, or both")
        if word_times[i] is not None:
            spoken[i] = given_times(word_times[i], text, wave, item)
        wave, text, notes[i] = batch.admit(
            wave, text, item, judge_speech=batch.reads_recordings(spec)
        )
        if text is None and wave is not None and transcribe and recognizer.asr is not None:
            heard[i] = spoken[i] = recognizer._transcribe(wave, timings)
            text = heard[i].text if batch.heard_notes(heard[i])[0] else None
        waves[i], texts[i] = wave, text
    use: dict[str, list[bool]] = {"text": [], "audio": []}
    ignored: set[str] = set()
    for i, (wave, text) in enumerate(zip(waves, texts)):
        given = {"text": text is not None, "audio": wave is not None}
        item = batch.usable_modalities(spec, **given, item=f"item {offset + i}")
        ignored.update(m for m in MODALITIES if given[m] and not item[m])
        for modality in MODALITIES:
            use[modality].append(item[modality])
    for modality in sorted(ignored):
        log.warning("the model was trained without %s; ignoring the %s", modality, modality)
    text_in = _encode(use["text"], texts, recognizer.encode_texts, timings)
    audio_in = _encode(use["audio"], waves, recognizer.encode_waves, timings)
    contexts = [batch.input_context(wave, text, h) for wave, text, h in zip(waves, texts, heard)]
    for context, more in zip(contexts, notes):
        context["notes"] = [*more, *context.get("notes", [])]
    return batch.explain_items(recognizer, text_in, audio_in, timings, contexts, spoken, waves)


def _encode(flags, inputs, encode, timings) -> list[UtteranceFeatures | None]:
    chosen = [x for x, flag in zip(inputs, flags) if flag]
    encoded = iter(encode(chosen, timings) if chosen else [])
    return [next(encoded) if flag else None for flag in flags]
