"""What the recognizer accepts, refuses, or answers with a note (issue 21: no silent guesses).

- `check_text`, `prepare_wave`: the Python API's arguments are type-checked, a recording at
  another rate is resampled to 16 kHz (`sample_rate`), and samples outside [-1, 1] (int16-range
  floats) are refused with a hint.
- `check_encoder_dims`: each encoder's features have the model's dimension (predict, serve).
- `admit`: an input too small to judge is refused when it is all there is, or dropped with a
  note when the other modality remains: a recording shorter than `MIN_AUDIO_S`, one with less
  than `MIN_SPEECH_S` of speech in it (noise, hum, music, a tone: silero-vad, with or without
  ASR), a transcript with no word in it (emoji, punctuation only). An ASR transcript with no
  words, or one the ASR is unsure of, is not read as a transcript; the answer says so in its
  notes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hri_emo.encoders.audio_io import TARGET_SAMPLE_RATE, check_waveform
from hri_emo.errors import AudioError, DataError, InputTypeError
from hri_emo.inference.vad import speech_seconds

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
