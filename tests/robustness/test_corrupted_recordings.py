"""The waveform conditions as the runner makes them: real (synthesised) speech in 22,050 Hz WAV
files, corrupted by `corrupt_recordings`, written and read back at 16 kHz; each at its level."""

from __future__ import annotations

import numpy as np
import pytest

from hri_emo.data.records import UtteranceRecord
from hri_emo.encoders import load_audio
from hri_emo.robustness import corruptions as C
from hri_emo.robustness.conditions import parse_condition
from hri_emo.robustness.inputs import corrupt_recordings
from hri_emo.synth import synthesize

SENTENCES = [
    "the robot brought the coffee to the kitchen",
    "please stop moving and wait for me here",
    "i am really happy to see you again today",
    "that noise in the corridor is far too loud",
    "could you tell me where the meeting room is",
]


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> list[UtteranceRecord]:
    folder = tmp_path_factory.mktemp("speech")
    records = []
    for index, text in enumerate(SENTENCES):
        path = synthesize(text).write(folder / f"u{index}.wav")  # 22,050 Hz, like EmoDB
        records.append(UtteranceRecord(id=f"u{index}", corpus="c", split="test", wav_path=path))
    return records


def _pairs(records, condition: str, folder):
    noisy = corrupt_recordings(records, parse_condition(condition), 0, folder)
    return [(load_audio(r.wav_path), load_audio(n.wav_path)) for r, n in zip(records, noisy)]


@pytest.mark.parametrize("condition", ["white-20db", "white-10db", "white-0db", "babble-0db"])
def test_noisy_recordings_have_the_stated_snr(spoken, tmp_path, condition):
    target = float(parse_condition(condition).level)
    for clean, noisy in _pairs(spoken, condition, tmp_path):
        assert len(noisy) == len(clean)
        assert abs(C.measured_snr_db(clean, noisy) - target) < 0.5


def test_babble_is_other_speech_not_the_utterance_itself(spoken, tmp_path):
    for clean, noisy in _pairs(spoken, "babble-10db", tmp_path):
        noise = noisy - clean
        correlation = np.corrcoef(noise, clean)[0, 1]
        assert abs(correlation) < 0.3
        assert abs(C.measured_snr_db(clean, noisy) - 10) < 0.5


def test_gain_and_clipping_recordings_at_their_level(spoken, tmp_path):
    for clean, quiet in _pairs(spoken, "gain--20db", tmp_path / "gain"):
        change = 10 * np.log10(C.signal_power(quiet) / C.signal_power(clean))
        assert change == pytest.approx(-20, abs=0.05)
    for clean, clipped in _pairs(spoken, "clip-20pct", tmp_path / "clip"):
        at_limit = (clipped >= clipped.max() - 1e-6) | (clipped <= clipped.min() + 1e-6)
        assert at_limit.mean() == pytest.approx(0.20, abs=0.02)
        assert np.abs(clipped).max() < 0.9 * np.abs(clean).max()


def test_telephone_recordings_keep_the_speech_band_only(spoken, tmp_path):
    for clean, narrow in _pairs(spoken, "telephone", tmp_path):
        freqs = np.fft.rfftfreq(len(clean), 1 / 16000)
        before, after = (np.abs(np.fft.rfft(x)) ** 2 for x in (clean, narrow))
        high, band = freqs > 4200, (freqs > 500) & (freqs < 3000)
        assert after[high].sum() < 0.01 * before[high].sum()
        assert after[band].sum() > 0.5 * before[band].sum()
