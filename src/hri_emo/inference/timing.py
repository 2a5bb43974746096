"""When each word was spoken, for the time prior (model/time_prior.py) at inference.

A model trained with word times (hriemo-v2's `time_prior_s`) gets them here for every item that
has a recording and a transcript. Times already known are used as they are: a transcript the
ASR heard brings Whisper's word times (`known_times`), and a caller may give its own ASR's
(`classify(..., word_times=...)`, checked by `given_times`). A transcript given without times
is placed by the built-in Whisper forced aligner (`asr.align_words`, ~30-45 ms for 3 s on one
core): `time_words`. Its confidence (mean
probability of the given words) is low when the transcript does not match the speech: below
`MIN_CONFIDENCE` the words get no times, the model runs without the prior (its alignment map
is then the learned attention, which does not locate words), and a note says so. Words the
aligner could not place stay untimed (None), never at 0 s.

A model with a transcript-trust input (hriemo) is then told not to trust the transcript: its
gate answers from the voice, as far as the voice is clean (model/reliability.py), and a second
note says so.

MIN_CONFIDENCE separates the two on the demo corpus's *training* voices: matched transcripts
score 0.54 or more in 90 % of cases (minimum 0.28), another utterance's sentence 0.12 or less in
90 % (median 0.03).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hri_emo.errors import DataError
from hri_emo.inference.asr import (
    SAMPLE_RATE,
    Transcript,
    WhisperASR,
    align_word_times,
    align_words,
)

MIN_CONFIDENCE = 0.3
TIME_SLACK_S = 0.1  # a word may end this much after the recording (rounding of other tools)
MISMATCH_NOTE = (
    "Because the transcript does not match the speech, the model was told not to trust it: the "
    "answer comes from the voice as far as the voice is clean (beta {beta:.2f})."
)


def matches_speech(confidence: float | None) -> bool:
    """False when the aligner judged the transcript not to match the speech (None: not judged)."""
    return confidence is None or confidence >= MIN_CONFIDENCE


def time_words(
    aligner: WhisperASR, wave: np.ndarray, words: list[str]
) -> tuple[np.ndarray | None, float | None, list[str]]:
    """(W, 2) word spans in seconds (NaN rows: not placed) or None when the transcript does not
    match the speech; the alignment confidence; notes for the user."""
    timed = align_words(aligner, wave, words)
    confidence = timed.confidence
    if confidence is None or confidence < MIN_CONFIDENCE:
        shown = "none" if confidence is None else f"{confidence:.2f}"
        return (
            None,
            confidence,
            [
                f"The transcript does not seem to match the speech (alignment confidence "
                f"{shown} < {MIN_CONFIDENCE}): words were not placed in time, so the alignment "
                "map is unreliable."
            ],
        )
    times = np.asarray(timed.word_times, dtype=np.float64)
    untimed = [w for w, row in zip(words, times) if not np.isfinite(row).all()]
    notes = [f"Words the aligner could not place in time: {untimed}."] if untimed else []
    return times, confidence, notes


def known_times(words: list[str], spoken: Transcript) -> tuple[np.ndarray, None, list[str]]:
    """`time_words` for a transcript whose word times are known (the ASR's, or the caller's):
    those times matched to the model's words, no alignment (and no mismatch to judge:
    confidence None)."""
    rows = align_word_times(words, spoken)
    times = np.array([(np.nan, np.nan) if row is None else row for row in rows], dtype=np.float64)
    times = times.reshape(len(words), 2)
    untimed = [w for w, row in zip(words, times) if not np.isfinite(row).all()]
    notes = [f"Words the aligner could not place in time: {untimed}."] if untimed else []
    return times, None, notes


def given_times(
    word_times: Any, text: str | None, wave: np.ndarray | None, item: str
) -> Transcript:
    """The caller's `word_times` for `text` (one (start, end) in seconds or None per whitespace
    word of it, within the 16 kHz `wave`) as a Transcript; a DataError naming `item` and the
    word when they cannot be right."""
    if wave is None or not (text and text.strip()):
        raise DataError(
            f"{item}: word_times place the words of a transcript in a recording: give both "
            "the recording and the transcript"
        )
    seconds = len(wave) / SAMPLE_RATE
    words = text.split()
    if isinstance(word_times, np.ndarray):
        word_times = word_times.tolist()
    if not isinstance(word_times, (list, tuple)) or len(word_times) != len(words):
        count = len(word_times) if isinstance(word_times, (list, tuple)) else type(word_times)
        raise DataError(
            f"{item}: word_times must give one (start, end) in seconds or null per word of the "
            f"transcript: {len(words)} word(s), got {count}"
        )
    times = []
    for index, (word, span) in enumerate(zip(words, word_times)):
        if span is None:
            times.append((np.nan, np.nan))
            continue
        try:
            start, end = (float(x) for x in span)
        except (TypeError, ValueError):
            raise DataError(
                f"{item}: word_times[{index}] ({word!r}) is {span!r}, not (start, end) in seconds"
            ) from None
        if not (0 <= start <= end <= seconds + TIME_SLACK_S):
            raise DataError(
                f"{item}: word_times[{index}] ({word!r}) = ({start:g}, {end:g}) s is not a span "
                f"0 <= start <= end within the {seconds:.2f} s recording"
            )
        times.append((start, end))
    return Transcript(words=words, word_times=times)


def spans(times: np.ndarray | None, count: int) -> list[tuple[float, float] | None] | None:
    """`UtteranceExplanation.word_times` of (W, 2) times: None for an untimed word."""
    if times is None:
        return None
    rows = [tuple(map(float, row)) if np.isfinite(row).all() else None for row in times]
    return rows[:count] + [None] * (count - len(rows))
