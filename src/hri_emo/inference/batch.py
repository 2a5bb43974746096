"""The steps every utterance takes, alone (`classify`) or in a batch (`predict_batch`).

1. Admission (issue 21: no silent guesses): what the recognizer accepts, refuses, or answers
   with a note.
   - `check_text`, `prepare_wave`: the Python API's arguments are type-checked, a recording at
     another rate is resampled to 16 kHz (`sample_rate`), and samples outside [-1, 1]
     (int16-range floats) are refused with a hint.
   - `check_encoder_dims`: each encoder's features have the model's dimension (predict, serve).
   - `admit`: an input too small to judge is refused when it is all there is, or dropped with a
     note when the other modality remains: a recording shorter than `MIN_AUDIO_S`, one with
     less than `MIN_SPEECH_S` of speech in it (noise, hum, music, a tone: silero-vad, with or
     without ASR), a transcript with no word in it (emoji, punctuation only). An ASR transcript
     with no words, or one the ASR is unsure of, is not read as a transcript; the answer says
     so in its notes.
2. `usable_modalities`: the one rule for a modality the model cannot use.
3. `explain_items`: padded features (masks; an item without a modality gets an all-False row)
   -> one fusion-model call -> one UtteranceExplanation per item (`explain_output`: the
   decision per emotion, model/decision.py). Items are padded to the longest in their batch
   (the model gives each item what it gives it alone); timings are shared out equally.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import torch

from hri_emo.data.collate import pad_times
from hri_emo.data.features import MODALITIES, FeatureSpec, UtteranceFeatures
from hri_emo.encoders.audio_io import TARGET_SAMPLE_RATE, check_waveform
from hri_emo.errors import AudioError, DataError, InputTypeError
from hri_emo.inference.asr import Transcript
from hri_emo.inference.dialogue import PastTurns, pad_context
from hri_emo.inference.timing import (
    MISMATCH_NOTE,
    known_times,
    matches_speech,
    spans,
    time_words,
)
from hri_emo.inference.vad import speech_seconds
from hri_emo.model.decision import predictions
from hri_emo.result import (
    UtteranceExplanation,
    attribution_axis,
    explanation_from_output,
    waveform_envelope,
)

EmotionRecognizer = Any  # the recognizer calls in: no import back (that would be a cycle)
log = logging.getLogger(__name__)

MIN_AUDIO_S = 0.25  # shorter recordings hold too little speech to judge an emotion
MIN_SPEECH_S = 0.25  # less speech than this (silero-vad): refused alone, ignored beside text
MIN_ASR_CONFIDENCE = 0.15  # below this an ASR transcript is not used as the transcript
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8_000, 192_000
UNRELIABLE = "unreliable"  # in the notes of an answer read from the sound alone


def check_text(text: object, what: str = "text") -> str | None:
    """`text` as a str (None stays None); InputTypeError for anything else; NUL refused."""
    if text is None or isinstance(text, str):
        if text is not None and "\x00" in text:
            raise DataError(f"{what} contains NUL characters")
        return text
    hint = " (decode bytes first: text.decode('utf-8'))" if isinstance(text, bytes) else ""
    raise InputTypeError(f"{what} must be a str or None, got {type(text).__name__}{hint}")


def prepare_wave(wave: object, sample_rate: object, what: str = "the waveform") -> np.ndarray:
    """Float mono samples in [-1, 1] at `sample_rate` -> (N,) float32 at 16 kHz."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
        raise InputTypeError(
            f"sample_rate must be an integer number of Hz, got {sample_rate!r} "
            f"({type(sample_rate).__name__})"
        )
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise DataError(
            f"sample_rate {sample_rate} Hz is not a usable rate "
            f"(expected {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE})"
        )
    if not isinstance(wave, (np.ndarray, list, tuple)):
        raise InputTypeError(
            f"{what} must be a numpy array of float samples (or None), got {type(wave).__name__}"
        )
    samples = check_waveform(wave, what)
    peak = float(np.abs(samples).max())
    if peak > 1.0 + 1e-4:
        hint = " (int16-range floats: divide by 32768)" if peak > 2.0 else " (clip or rescale it)"
        raise AudioError(f"{what} has samples outside [-1, 1] (peak {peak:g}){hint}")
    if sample_rate != TARGET_SAMPLE_RATE:
        import soxr

        samples = soxr.resample(samples, int(sample_rate), TARGET_SAMPLE_RATE).astype(np.float32)
    return np.ascontiguousarray(samples, dtype=np.float32)


def has_words(text: str | None) -> bool:
    """True when `text` holds at least one letter or digit (emoji and punctuation are none)."""
    return bool(text) and any(ch.isalnum() for ch in text)


def admit(
    wave: np.ndarray | None, text: str | None, item: str, *, judge_speech: bool = True
) -> tuple[np.ndarray | None, str | None, list[str]]:
    """(wave, text, notes) to classify: refuse what is too small to judge when it is all there
    is; drop it with a note when the other modality remains. `item` names it in errors.
    `judge_speech=False` (a model that does not read recordings) skips the speech check."""
    notes: list[str] = []
    if wave is not None and len(wave) < MIN_AUDIO_S * TARGET_SAMPLE_RATE:
        seconds = len(wave) / TARGET_SAMPLE_RATE
        if not has_words(text):
            raise AudioError(
                f"{item}: the recording lasts {seconds:.2f} s, too short to judge an emotion "
                f"(at least {MIN_AUDIO_S:g} s); send a longer recording or a transcript"
            )
        wave = None
        notes.append(
            f"The recording ({seconds:.2f} s) is too short to judge (at least {MIN_AUDIO_S:g} s): "
            "it was ignored, and the emotion read from the transcript alone."
        )
    if wave is not None and judge_speech:
        wave, more = admit_speech(wave, text, item)
        notes += more
    if text is not None and text.strip() and not has_words(text):
        if wave is None:
            raise DataError(
                f"{item}: the transcript {text[:40]!r} has no words (only symbols or emoji): "
                "nothing to judge"
            )
        text = None
        notes.append("The transcript has no words (only symbols or emoji): it was ignored.")
    return wave, text, notes


def admit_speech(
    wave: np.ndarray, text: str | None, item: str
) -> tuple[np.ndarray | None, list[str]]:
    """(wave or None, notes): a recording with less than `MIN_SPEECH_S` of speech is refused
    when it is all there is, and ignored with a note beside a transcript."""
    speech = speech_seconds(wave, enough_s=MIN_SPEECH_S)
    if speech >= MIN_SPEECH_S:
        return wave, []
    found = f"{speech:.2f} s of speech in {len(wave) / TARGET_SAMPLE_RATE:.2f} s"
    if not has_words(text):
        raise AudioError(
            f"{item}: the recording holds no speech to judge ({found}; at least "
            f"{MIN_SPEECH_S:g} s): send a recording of speech or a transcript"
        )
    return None, [
        f"The recording holds no speech ({found}; at least {MIN_SPEECH_S:g} s): it was "
        "ignored, and the emotion read from the transcript alone."
    ]


def heard_notes(heard: Any) -> tuple[bool, list[str]]:
    """(use the ASR transcript?, notes) for what the ASR heard (`hri_emo.inference.asr.
    Transcript`: words, text, confidence)."""
    if not heard.words or not has_words(heard.text):
        return False, [
            "No speech recognised in the recording: the emotion is read from the sound alone "
            f"and is {UNRELIABLE}."
        ]
    if heard.confidence is not None and heard.confidence < MIN_ASR_CONFIDENCE:
        return False, [
            f"The ASR is unsure of what it heard (confidence {heard.confidence:.2f}): its "
            f"transcript was not used; the emotion is read from the sound alone and is "
            f"{UNRELIABLE}."
        ]
    return True, []


def reads_recordings(spec: Any) -> bool:
    """Whether a model (its FeatureSpec) encodes recordings itself (not given audio records)."""
    return spec.is_used("audio") and not spec.is_record("audio")


def check_encoder_dims(recognizer: Any) -> None:
    """Run each encoder the model uses on a tiny input: its `_check_dim` raises a
    FeatureMismatchError when the features are not the model's dimension, so an audio-only
    input cannot hide a wrong text encoder (and the other way round)."""
    timings: dict[str, float] = {}
    spec = recognizer.spec
    if spec.is_used("text") and not spec.is_record("text"):
        recognizer.encode_texts(["hello"], timings)
    if reads_recordings(spec):
        t = np.arange(TARGET_SAMPLE_RATE // 2, dtype=np.float32) / TARGET_SAMPLE_RATE
        recognizer.encode_waves([0.1 * np.sin(2 * np.pi * 220 * t)], timings)


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


def uses_time_prior(model: Any, text_metadata: dict[str, Any] | None = None) -> bool:
    """The model has a time prior and was trained with word times: its text store says so
    (`extra.word_times`; a bare model folder without features.json is taken at its word).
    A v2 model trained on a store without word times never saw the prior: it runs without."""
    if getattr(getattr(model, "config", None), "time_prior_s", 0.0) <= 0:
        return False
    return text_metadata is None or bool(text_metadata.get("extra", {}).get("word_times"))


def explain_items(
    recognizer: EmotionRecognizer,
    text_in: list[UtteranceFeatures | None],
    audio_in: list[UtteranceFeatures | None],
    timings: dict[str, float],
    contexts: list[dict[str, Any]],
    spoken: list[Transcript | None],
    waves: list[np.ndarray | None] | None = None,
    past: list[PastTurns | None] | None = None,
) -> list[UtteranceExplanation]:
    """Model-ready features of each item -> one padded fusion-model call -> the items' results
    (timings shared out equally). `spoken`: each item's transcript with its word times where
    they are known (what the ASR heard, or the caller's `word_times`), else None. With `waves`,
    a model trained with the time prior gets each item's word times: those known, else a forced
    alignment (inference/timing.py). `past`: each item's dialogue context
    (inference/dialogue.py), named in its result's `context_turns`."""
    timed = _word_times(recognizer, waves, text_in, audio_in, spoken, timings)
    mismatched = [not matches_speech(confidence) for _, confidence, _ in timed]
    inputs = model_inputs(
        recognizer, text_in, audio_in, [t for t, _, _ in timed], [not m for m in mismatched]
    )
    if past is not None and any(p is not None for p in past):
        inputs.update(pad_context(past, next(recognizer.model.parameters()).device))
        for context, turns in zip(contexts, past):
            if turns is not None:
                context["context_turns"] = list(turns.ids)
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
        if "transcript_trust" in inputs and mismatched[i] and result.beta_mean is not None:
            result.notes.append(MISMATCH_NOTE.format(beta=result.beta_mean))
        if times is not None:
            result.word_times = spans(times, len(result.words))
        elif spoken[i] is not None and spoken[i].words:
            result.word_times = spans(known_times(result.words, spoken[i])[0], len(result.words))
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


def model_inputs(
    recognizer: EmotionRecognizer,
    text_in: list[UtteranceFeatures | None],
    audio_in: list[UtteranceFeatures | None],
    word_times: list[np.ndarray | None],
    trusted: list[bool],
) -> dict[str, torch.Tensor | None]:
    """The fusion model's keywords for the items: padded features, word times (None where
    unknown), the frames' times where the model reads them (the time prior and the word rate,
    model/reliability.py), and transcript trust 0 for a transcript the aligner found not to
    match the speech (the gate then answers from the voice)."""
    device = next(recognizer.model.parameters()).device
    inputs = {**pad_features("text", text_in, device), **pad_features("audio", audio_in, device)}
    if any(times is not None for times in word_times):
        inputs["text_times"] = pad_times(word_times, inputs["text_mask"])
    frames = [None if a is None else a.frame_times for a in audio_in]
    if takes_frame_times(recognizer) and any(f is not None for f in frames):
        inputs["audio_times"] = pad_times(frames, inputs["audio_mask"])
    if not all(trusted) and takes_transcript_trust(recognizer):
        inputs["transcript_trust"] = torch.tensor([1.0 if t else 0.0 for t in trusted])
    return inputs


def takes_transcript_trust(recognizer: EmotionRecognizer) -> bool:
    """Whether the recognizer's model can be told not to trust a transcript (hriemo, on torch or
    from an ONNX export that takes it)."""
    return getattr(recognizer.model, "accepts_transcript_trust", False)


def takes_frame_times(recognizer: EmotionRecognizer) -> bool:
    """Whether the recognizer's model reads frame times (a timed model, on torch or from an
    ONNX export that takes them)."""
    return getattr(recognizer.model, "accepts_times", False)


def _word_times(
    recognizer: EmotionRecognizer,
    waves: list[np.ndarray | None] | None,
    text_in: list[UtteranceFeatures | None],
    audio_in: list[UtteranceFeatures | None],
    spoken: list[Transcript | None],
    timings: dict[str, float],
) -> list[tuple[np.ndarray | None, float | None, list[str]]]:
    """(word times, alignment confidence, notes) per item; times only where the model takes
    them (time prior, times taken: takes_frame_times) and the item has a recording and words.
    Known times are used as they are: the ASR's (Whisper's alignment heads, within 0.02 s of a
    forced alignment of the heard words) or the caller's; only a transcript given without
    times is force-aligned."""
    none = [(None, None, [])] * len(text_in)
    trained_with_times = uses_time_prior(recognizer.model, recognizer.spec.metadata("text"))
    if waves is None or not takes_frame_times(recognizer) or not trained_with_times:
        return none
    start, result = time.perf_counter(), []
    for wave, text, audio, transcript in zip(waves, text_in, audio_in, spoken):
        if wave is None or audio is None or text is None:  # a modality missing
            result.append((None, None, []))
            continue
        words = list(text.tokens or [])
        if len(words) != len(text.features):
            result.append((None, None, []))  # a pooled transcript
        elif transcript is not None and transcript.words:
            result.append(known_times(words, transcript))
        else:
            result.append(time_words(recognizer.aligner, wave, words))
    timings["word_alignment"] = 1000 * (time.perf_counter() - start)
    return result


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
