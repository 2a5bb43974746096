"""eSpeak NG through its C API: speech, word spans that match the audio, settings, errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from hri_emo.errors import ConfigError
from hri_emo.synth import synthesize

SENTENCE = "Please put the red cup on the kitchen table"


def test_speech_has_every_word_with_ordered_spans_inside_the_audio():
    speech = synthesize(SENTENCE)
    assert speech.sample_rate == 22050
    assert speech.words == SENTENCE.split()
    assert all(span is not None for span in speech.word_spans)
    starts = [s for s, _ in speech.word_spans]
    assert starts == sorted(starts) and starts[0] < 0.2
    for start, end in speech.word_spans:
        assert 0.03 < end - start < 1.0
        assert end <= speech.duration_s + 1e-9


def test_spans_cover_the_speech_and_gaps_between_sentences_are_silent():
    speech = synthesize("Hello there. How are you today?")
    rate, wave = speech.sample_rate, speech.wave
    inside = np.zeros(len(wave), bool)
    for start, end in speech.word_spans:
        inside[int(start * rate) : int(end * rate)] = True
    loud = np.abs(wave) > 0.05 * np.abs(wave).max()
    assert loud[inside].sum() / loud.sum() > 0.98  # the words hold (nearly) all the speech
    first_end, second_start = speech.word_spans[1][1], speech.word_spans[2][0]
    assert second_start - first_end > 0.15  # the sentence pause is not inside any word
    assert np.abs(wave[int(first_end * rate) + 50 : int(second_start * rate)]).max() < 0.05


def test_settings_change_the_voice_and_calls_are_independent():
    slow = synthesize(SENTENCE, rate=120)
    fast = synthesize(SENTENCE, rate=300)
    assert slow.duration_s > 1.8 * fast.duration_s
    # eSpeak NG adds a little randomness (a few samples of length); no state leaks between calls
    again = synthesize(SENTENCE, rate=120)
    assert abs(len(again.wave) - len(slow.wave)) < 0.01 * len(slow.wave)
    for (a, _), (b, _) in zip(slow.word_spans, again.word_spans, strict=True):
        assert abs(a - b) < 0.02
    assert synthesize(SENTENCE).settings["rate"] == 175  # defaults restored
    low, high = synthesize(SENTENCE, pitch=10), synthesize(SENTENCE, pitch=90)
    assert not np.array_equal(low.wave, high.wave)
    variant = synthesize(SENTENCE, voice="en-us+f3")
    assert not np.array_equal(variant.wave[:5000], synthesize(SENTENCE, voice="en-us").wave[:5000])


def test_resample_and_write(tmp_path):
    speech = synthesize("Good morning").resampled(16000)
    assert speech.sample_rate == 16000
    path = speech.write(tmp_path / "x.wav")
    data, rate = sf.read(path)
    assert rate == 16000 and len(data) == len(speech.wave)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"voice": "xx-nope"}, "no voice 'xx-nope'"),
        ({"rate": 5}, "rate=5 is outside"),
        ({"loudness": 3}, "unknown speech setting"),
    ],
)
def test_bad_requests_are_clear(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        synthesize("hello", **kwargs)


def test_empty_text_is_refused():
    with pytest.raises(ConfigError, match="non-empty"):
        synthesize("   ")
