"""Many utterances at once: ASR per recording, then each encoder and the fusion model per batch.

`EmotionRecognizer.predict_batch` calls `predict_batch` here, and `classify` (one utterance)
shares its two rules: `usable_modalities` (what to do with a modality the model cannot use) and
`explain_items` (padded features -> the fusion model -> one UtteranceExplanation per item).
Items are padded to the longest in their batch with masks (the model gives each item what it
gives it alone); an item without one modality gets an all-False mask for it. Timings of a batch
are shared out equally to its items.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import torch

from hri_emo.data.collate import pad_times
from hri_emo.data.store_layout import UtteranceFeatures
from hri_emo.encoders.audio_io import TARGET_SAMPLE_RATE
from hri_emo.errors import DataError
from hri_emo.inference.admission import (
    admit,
    check_text,
    heard_notes,
    prepare_wave,
    reads_recordings,
)
from hri_emo.inference.asr import Transcript, align_word_times
from hri_emo.inference.dialogue import PastTurns
from hri_emo.inference.features import MODALITIES, FeatureSpec
from hri_emo.inference.timing import spans, time_words, uses_time_prior
from hri_emo.model.decision import predictions
from hri_emo.result import (
    UtteranceExplanation,
    attribution_axis,
    explanation_from_output,
    waveform_envelope,
)

EmotionRecognizer = Any  # the recognizer calls in: no import back (that would be a cycle)
log = logging.getLogger(__name__)


def predict_batch(
    recognizer: EmotionRecognizer,
    waves: list[np.ndarray | None],
    texts: list[str | None],
    *,
    transcribe: bool = True,
    batch_size: int = 16,
) -> list[UtteranceExplanation]:
    """One UtteranceExplanation per (wave, text) pair; a bad item raises a DataError naming it."""
    if len(waves) != len(texts):
        raise DataError(f"predict_batch: {len(waves)} recordings but {len(texts)} transcripts")
    if batch_size < 1:
        raise DataError(f"batch_size must be >= 1, got {batch_size}")
    results: list[UtteranceExplanation] = []
    for first in range(0, len(waves), batch_size):
        chunk = slice(first, first + batch_size)
        results += _predict_chunk(recognizer, waves[chunk], texts[chunk], transcribe, first)
    return results


def _predict_chunk(
    recognizer: EmotionRecognizer,
    waves: list[np.ndarray | None],
    texts: list[str | None],
    transcribe: bool,
    offset: int,
) -> list[UtteranceExplanation]:
    spec, timings = recognizer.spec, {}
    waves, texts = list(waves), list(texts)
    heard: list[Transcript | None] = [None] * len(waves)
    notes: list[list[str]] = [[] for _ in waves]
    for i, (wave, text) in enumerate(zip(waves, texts)):
        item = f"item {offset + i}"
        text = check_text(text, f"{item}: text")
        text = text if text and text.strip() else None
        if wave is not None:
            wave = prepare_wave(wave, TARGET_SAMPLE_RATE, f"{item}: the recording")
        if wave is None and text is None:
            raise DataError(f"{item}: need a transcript, a recording, or both")
        wave, text, notes[i] = admit(wave, text, item, judge_speech=reads_recordings(spec))
        if text is None and wave is not None and transcribe and recognizer.asr is not None:
            heard[i] = recognizer._transcribe(wave, timings)
            text = heard[i].text if heard_notes(heard[i])[0] else None
        waves[i], texts[i] = wave, text
    use: dict[str, list[bool]] = {"text": [], "audio": []}
    ignored: set[str] = set()
    for i, (wave, text) in enumerate(zip(waves, texts)):
        given = {"text": text is not None, "audio": wave is not None}
        item = usable_modalities(spec, **given, item=f"item {offset + i}")
        ignored.update(m for m in MODALITIES if given[m] and not item[m])
        for modality in MODALITIES:
            use[modality].append(item[modality])
    for modality in sorted(ignored):
        log.warning("the model was trained without %s; ignoring the %s", modality, modality)
    text_in = _encode(use["text"], texts, recognizer.encode_texts, timings)
    audio_in = _encode(use["audio"], waves, recognizer.encode_waves, timings)
    contexts = [input_context(wave, text, h) for wave, text, h in zip(waves, texts, heard)]
    for context, more in zip(contexts, notes):
        context["notes"] = [*more, *context.get("notes", [])]
    return explain_items(recognizer, text_in, audio_in, timings, contexts, heard, waves)


def usable_modalities(
    spec: FeatureSpec, text: bool, audio: bool, *, features: bool = False, item: str = ""
) -> dict[str, bool]:
    """The one rule for the modalities an utterance gives (`text`, `audio`: given or not): one
    that training read from record columns cannot be computed (FeatureMismatchError); one the
    model was trained without is not used; nothing left to use is a DataError (`item` names
    the utterance). `features`: precomputed audio features come as well (`classify`)."""
    use = {"text": text, "audio": audio}
    for modality in MODALITIES:
        if use[modality] and spec.is_record(modality):
            raise spec.record_error(modality)
        if use[modality] and not spec.is_used(modality):
            use[modality] = False
            if not any(use.values()) and not features:
                where = f"{item}: " if item else ""
                raise DataError(f"{where}the model was trained without {modality}; nothing to use")
    return use


def explain_items(
    recognizer: EmotionRecognizer,
    text_in: list[UtteranceFeatures | None],
    audio_in: list[UtteranceFeatures | None],
    timings: dict[str, float],
    contexts: list[dict[str, Any]],
    heard: list[Transcript | None],
    waves: list[np.ndarray | None] | None = None,
    past: list[PastTurns | None] | None = None,
) -> list[UtteranceExplanation]:
    """Model-ready features of each item -> one padded fusion-model call -> the items' results
    (timings shared out equally; ASR word times aligned to the words). With `waves`, a model
    trained with the time prior gets each item's word times (inference/timing.py). `past`: each
    item's dialogue context (inference/dialogue.py), named in its result's `context_turns`."""
    device = next(recognizer.model.parameters()).device
    timed = _word_times(recognizer, waves, text_in, audio_in, timings)
    inputs = {**pad_features("text", text_in, device), **pad_features("audio", audio_in, device)}
    if past is not None and any(p is not None for p in past):
        inputs.update(pad_context(past, device))
        for context, turns in zip(contexts, past):
            if turns is not None:
                context["context_turns"] = list(turns.ids)
    if any(times is not None for times, _, _ in timed):
        inputs["text_times"] = pad_times([t for t, _, _ in timed], inputs["text_mask"])
        frames = [None if a is None else a.frame_times for a in audio_in]
        inputs["audio_times"] = pad_times(frames, inputs["audio_mask"])
    start = time.perf_counter()
    with torch.no_grad():
        out = recognizer.runner(**inputs)
    timings["fusion_model"] = 1000 * (time.perf_counter() - start)
    share = {k: v / len(contexts) for k, v in timings.items()}
    results = []
    for i, context in enumerate(contexts):
        words = list(text_in[i].tokens or []) if text_in[i] is not None else []
        frame_times = None if audio_in[i] is None else audio_in[i].frame_times
        result = explain_output(
            recognizer, out, i, words, frame_times, timings_ms=dict(share), **context
        )
        times, confidence, notes = timed[i]
        result.alignment_confidence = confidence
        result.notes += notes
        if times is not None:
            result.word_times = spans(times, len(result.words))
        elif heard[i] is not None and heard[i].words:
            result.word_times = align_word_times(result.words, heard[i])
        results.append(result)
    return results


def explain_output(
    recognizer: EmotionRecognizer,
    out: Any,
    index: int,
    words: list[str],
    frame_times: np.ndarray | None,
    **context: Any,
) -> UtteranceExplanation:
    """The UtteranceExplanation of item `index` of a model output, with the recognizer's
    emotions, task and decision thresholds (`context`: further fields, e.g. transcript)."""
    probs = out.probabilities[index : index + 1].double().cpu().numpy()  # as evaluate does
    decision = predictions(recognizer.task, probs, recognizer.thresholds)[0]
    return explanation_from_output(
        out,
        index,
        emotions=recognizer.emotions,
        task=recognizer.task,
        decision=decision,
        words=words,
        frame_times=frame_times,
        thresholds=recognizer.thresholds,
        attribution_over=attribution_axis(recognizer.model),
        **context,
    )


def _word_times(
    recognizer: EmotionRecognizer,
    waves: list[np.ndarray | None] | None,
    text_in: list[UtteranceFeatures | None],
    audio_in: list[UtteranceFeatures | None],
    timings: dict[str, float],
) -> list[tuple[np.ndarray | None, float | None, list[str]]]:
    """(word times, alignment confidence, notes) per item; times only where the model takes
    them (torch backend, time prior) and the item has a recording and words."""
    none = [(None, None, [])] * len(text_in)
    trained_with_times = uses_time_prior(recognizer.model, recognizer.spec.metadata("text"))
    if waves is None or recognizer.backend != "torch" or not trained_with_times:
        return none
    start, result = time.perf_counter(), []
    for wave, text, audio in zip(waves, text_in, audio_in):
        if wave is None or audio is None or text is None:  # a modality missing
            result.append((None, None, []))
            continue
        words = list(text.tokens or [])
        if len(words) != len(text.features):
            result.append((None, None, []))  # a pooled transcript
            continue
        result.append(time_words(recognizer.aligner, wave, words))
    timings["word_alignment"] = 1000 * (time.perf_counter() - start)
    return result


def _encode(flags, inputs, encode, timings) -> list[UtteranceFeatures | None]:
    chosen = [x for x, flag in zip(inputs, flags) if flag]
    encoded = iter(encode(chosen, timings) if chosen else [])
    return [next(encoded) if flag else None for flag in flags]


def pad_features(
    name: str, items: list[UtteranceFeatures | None], device: torch.device | str = "cpu"
) -> dict[str, torch.Tensor | None]:
    """(B, L, D) features and (B, L) mask; None for a modality no item has. A pooled (D,)
    vector is a sequence of one position."""
    present = [x.features.reshape(-1, x.features.shape[-1]) for x in items if x is not None]
    if not present:
        return {name: None}
    length = max(len(x) for x in present)
    features = np.zeros((len(items), length, present[0].shape[-1]), dtype=np.float32)
    mask = np.zeros((len(items), length), dtype=bool)
    arrays = iter(present)
    for b, x in enumerate(items):
        if x is not None:
            array = next(arrays)
            features[b, : len(array)] = array
            mask[b, : len(array)] = True
    tensors = {name: torch.from_numpy(features), f"{name}_mask": torch.from_numpy(mask)}
    return {key: tensor.to(device) for key, tensor in tensors.items()}


def pad_context(past: list[PastTurns | None], device: torch.device | str) -> dict[str, Any]:
    """The model's (B, K, Dt) context, (B, K) mask and same-speaker flags (as collate_batch
    pads them: an item without past turns gets an all-False mask)."""
    present = [p for p in past if p is not None]
    turns, dim = max(len(p.ids) for p in present), present[0].vectors.shape[-1]
    vectors = np.zeros((len(past), turns, dim), dtype=np.float32)
    mask = np.zeros((len(past), turns), dtype=bool)
    same = np.zeros((len(past), turns), dtype=bool)
    for b, item in enumerate(past):
        if item is not None:
            k = len(item.ids)
            vectors[b, :k], mask[b, :k], same[b, :k] = item.vectors, True, item.same_speaker
    arrays = {"context": vectors, "context_mask": mask, "context_same_speaker": same}
    return {key: torch.from_numpy(array).to(device) for key, array in arrays.items()}


def input_context(
    wave: np.ndarray | None, text: str | None, heard: Transcript | None
) -> dict[str, Any]:
    """UtteranceExplanation fields that describe the inputs (transcript, its source, ASR
    confidence, duration, envelope)."""
    context: dict[str, Any] = {}
    if heard is not None:
        context.update(asr_context(heard))
    elif text is not None:
        context.update(transcript=text, transcript_source="given")
    if wave is not None:
        context.update(duration_s=len(wave) / TARGET_SAMPLE_RATE, envelope=waveform_envelope(wave))
    return context


def asr_context(heard: Transcript) -> dict[str, Any]:
    """UtteranceExplanation fields of an ASR transcript (a note when nothing usable was heard:
    no words, or a transcript the ASR is unsure of, which is then not used)."""
    context: dict[str, Any] = {"transcript_source": "asr", "notes": heard_notes(heard)[1]}
    if heard.words:
        context.update(transcript=heard.text, asr_confidence=heard.confidence)
    return context
