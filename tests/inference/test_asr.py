"""Built-in ASR (faster-whisper, embedded Whisper tiny.en) on eSpeak NG speech with known words
and word spans, and through the recognizer."""

from __future__ import annotations

import numpy as np
import pytest

from hri_emo.errors import ConfigError
from hri_emo.inference.asr import (
    Transcript,
    WhisperASR,
    align_word_times,
    create_asr,
    normalise_words,
    word_error_rate,
)

TIME_TOLERANCE_S = 0.3  # Whisper's word times come from cross-attention, 20 ms steps


def matched_time_errors(speech, heard: Transcript) -> list[float]:
    """|start| and |end| errors (s) of heard words that match the spoken word at their place."""
    truth = [
        (w, span) for w, span in zip(normalise_words(" ".join(speech.words)), speech.word_spans)
    ]
    errors, cursor = [], 0
    for word, (start, end) in zip(heard.words, heard.word_times):
        norm = normalise_words(word)
        for k in range(cursor, len(truth)):
            if norm and truth[k][0] == norm[0]:
                errors += [abs(start - truth[k][1][0]), abs(end - truth[k][1][1])]
                cursor = k + 1
                break
    return errors


def test_asr_recovers_the_words_and_their_times(asr_recognizer, spoken):
    heard = [asr_recognizer.asr.transcribe(s.resampled(16000).wave) for s in spoken]
    wer = word_error_rate([" ".join(s.words) for s in spoken], [h.text for h in heard])
    assert wer <= 0.15, [h.text for h in heard]
    for speech, transcript in zip(spoken, heard):
        errors = matched_time_errors(speech, transcript)
        assert len(errors) >= 2 * (len(speech.words) - 2)  # nearly every word matched
        assert max(errors) <= TIME_TOLERANCE_S and np.mean(errors) <= 0.15, errors
        assert all(0 < p <= 1 for p in transcript.word_probabilities)
        assert 0.5 < transcript.confidence <= 1


def test_classify_without_transcript_fills_the_asr_fields(asr_recognizer, spoken):
    speech = spoken[1]
    result = asr_recognizer.classify(speech.resampled(16000).wave, None)
    assert result.transcript_source == "asr"
    assert normalise_words(result.transcript) == normalise_words(" ".join(speech.words))
    assert result.words == result.transcript.split()
    assert len(result.word_times) == len(result.words) and None not in result.word_times
    assert 0.5 < result.asr_confidence <= 1
    assert result.timings_ms["asr"] > 0 and result.attribution.shape[1] == len(result.words)
    as_json = result.to_dict(maps=False)
    assert as_json["word_times"][0] == list(result.word_times[0])


def test_a_given_transcript_is_not_replaced_and_asr_can_be_turned_off(
    asr_recognizer, embedded_model_dir, spoken
):
    from hri_emo.inference import EmotionRecognizer

    wave = spoken[0].resampled(16000).wave
    given = asr_recognizer.classify(wave, "put it there")
    assert given.transcript_source == "given" and given.asr_confidence is None
    assert "asr" not in given.timings_ms
    skipped = asr_recognizer.classify(wave, None, transcribe=False)
    assert skipped.transcript is None and skipped.words == []
    off = EmotionRecognizer.from_pretrained(embedded_model_dir, asr="none")
    assert off.asr is None
    result = off.classify(wave, None)
    assert result.transcript is None and result.transcript_source is None
    assert result.probabilities == pytest.approx(skipped.probabilities, abs=1e-6)


def test_word_times_follow_the_model_words():
    heard = Transcript(["Hello", "there,", "robot."], [(0.0, 0.4), (0.4, 0.7), (0.8, 1.2)], [1] * 3)
    assert align_word_times(["hello", "there,", "robot."], heard) == heard.word_times
    assert align_word_times(["hello", "xyz", "robot."], heard) == [(0.0, 0.4), None, (0.8, 1.2)]
    assert align_word_times(["Hello there, robot."], heard) == [(0.0, 1.2)]  # pooled text


def test_bad_asr_choices_are_clear_errors(tmp_path):
    assert create_asr("none") is None and create_asr(None) is None
    with pytest.raises(ConfigError, match=r"no model\.bin"):
        WhisperASR(tmp_path).load()
    with pytest.raises(ConfigError, match="does not exist"):
        WhisperASR(tmp_path / "missing").load()
    with pytest.raises(ConfigError, match="ASR model 'large-v9' is not auto, none, a folder"):
        WhisperASR("large-v9").load()
    with pytest.raises(ConfigError, match="'large-v2' is not in the local Hugging Face cache"):
        WhisperASR("large-v2").load()  # no download is tried


def test_the_short_window_still_recovers_most_words(spoken):
    asr = WhisperASR(short_window=True)
    waves = [s.resampled(16000).wave for s in spoken]
    heard = [asr.transcribe(wave) for wave in waves]
    assert asr.model.frames == 2 * int(np.ceil(50 * (len(waves[-1]) / 16000 + 1)))  # not 3000
    wer = word_error_rate([" ".join(s.words) for s in spoken], [h.text for h in heard])
    assert wer <= 0.3, [h.text for h in heard]
