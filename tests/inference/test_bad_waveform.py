"""A waveform array given to `classify()` is checked like the same samples read from a file
(issue 13): silence, NaN/Inf, empty, int16 PCM and multi-channel arrays are refused by name."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from hri_emo.errors import AudioError
from hri_emo.inference import EmotionRecognizer
from hri_emo.model import create_model


@pytest.fixture(scope="module")
def recognizer():
    model = create_model("hriemo-v2", text_dim=384, audio_dim=384, hidden_dim=16, num_heads=2)
    return EmotionRecognizer(model)  # encoders are built on first use: never, here


def test_silence_is_refused_from_an_array_as_from_a_file(recognizer, tmp_path):
    silence = np.zeros(16000, np.float32)
    sf.write(tmp_path / "silent.wav", silence, 16000)
    with pytest.raises(AudioError, match=r"silent\.wav is silent: all 16000 samples are zero"):
        recognizer.classify_file(tmp_path / "silent.wav", "hello there")
    with pytest.raises(
        AudioError, match=r"the waveform given to classify\(\) is silent: all 16000 samples"
    ):
        recognizer.classify(silence, "hello there")


@pytest.mark.parametrize(
    ("wave", "message"),
    [
        (np.zeros(0, np.float32), "is empty: 0 samples"),
        (np.array([0.1, np.nan, 0.2], np.float32), "contains NaN or infinite samples"),
        (np.array([0.1, np.inf], np.float64), "contains NaN or infinite samples"),
        (np.full(100, 1000, np.int16), r"has int16 samples; .*divide by 32768"),
        (np.full((100, 2), 0.1, np.float32), r"has shape \(100, 2\); expected mono"),
    ],
)
def test_unusable_waveforms_are_named(recognizer, wave, message):
    with pytest.raises(AudioError, match=message):
        recognizer.classify(wave, "hello there")
