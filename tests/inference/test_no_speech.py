"""No speech and no transcript: refused, even without ASR (issue 21). silero-vad measures the
speech in a recording; with less than MIN_SPEECH_S an audio-only input is refused, and beside a
transcript the recording is ignored with a note. Real speech (eSpeak NG; EmoDB when the shared
corpora are here) is still accepted. Python API and CLI here; HTTP in
tests/serve/test_no_speech_http.py."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import soundfile as sf

from hri_emo.cli.main import main
from hri_emo.errors import AudioError
from hri_emo.inference.batch import MIN_SPEECH_S
from hri_emo.inference.vad import speech_seconds
from hri_emo.synth import synthesize

RATE = 16000
rng = np.random.default_rng(0)
SIGNALS = {  # no speech in any of them
    "white noise": rng.uniform(-0.3, 0.3, 3 * RATE).astype(np.float32),
    "room tone": (3e-4 * rng.normal(size=3 * RATE)).astype(np.float32),  # a quiet room
    "mains hum": (0.05 * np.sin(2 * np.pi * 50 * np.arange(3 * RATE) / RATE)).astype(np.float32),
}


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return synthesize("I am so happy to see you again today").resampled(RATE).wave


@pytest.fixture(scope="module")
def recognizer(embedded_model_dir):
    from hri_emo.inference import EmotionRecognizer

    return EmotionRecognizer.from_pretrained(embedded_model_dir, asr=None)


def test_the_detector_tells_speech_from_noise(speech):
    assert speech_seconds(speech) > 1.5  # 1.97 s of eSpeak NG
    for wave in SIGNALS.values():
        assert speech_seconds(wave) < MIN_SPEECH_S


@pytest.mark.parametrize("name", list(SIGNALS))
def test_api_refuses_no_speech_alone_and_notes_it_beside_text(recognizer, name):
    with pytest.raises(AudioError, match=r"classify\(\): the recording holds no speech to judge"):
        recognizer.classify(SIGNALS[name], None)
    result = recognizer.classify(SIGNALS[name], "I am so happy to see you")
    assert any("holds no speech" in note and "ignored" in note for note in result.notes)
    assert result.duration_s is None  # the recording was not used
    assert result.transcript == "I am so happy to see you"


def test_api_accepts_speech(recognizer, speech):
    result = recognizer.classify(speech, None)
    assert result.duration_s == pytest.approx(len(speech) / RATE, abs=0.01)
    assert not any("holds no speech" in note for note in result.notes), result.notes
    with pytest.raises(AudioError, match="item 1: the recording holds no speech"):
        recognizer.predict_batch([speech, SIGNALS["white noise"]], [None, None])


def test_api_accepts_real_recorded_speech(recognizer, shared_data):
    from hri_emo.encoders import load_audio

    for path in sorted((shared_data / "emodb" / "wav").glob("*.wav"))[:3]:
        result = recognizer.classify(load_audio(path), None)
        assert result.duration_s > 1, path.name
        assert not any("no speech" in note for note in result.notes), (path.name, result.notes)


def test_cli_one_recording(embedded_model_dir, tmp_path, capsys):
    sf.write(tmp_path / "noise.wav", SIGNALS["white noise"], RATE)
    model, audio = str(embedded_model_dir), str(tmp_path / "noise.wav")
    assert main(["predict", model, "--asr", "none", "--audio", audio]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"hri-emo predict: error: {audio}: the recording holds no speech"), err
    assert len(err.splitlines()) == 1
    assert main(["predict", model, "--asr", "none", "--audio", audio, "--text", "I am sad"]) == 0
    assert "note: The recording holds no speech" in capsys.readouterr().out


def test_cli_folder_marks_the_noise_and_keeps_the_speech(embedded_model_dir, speech, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    sf.write(folder / "a_speech.wav", speech, RATE)
    sf.write(folder / "b_noise.wav", SIGNALS["white noise"], RATE)
    sf.write(folder / "c_hum.wav", SIGNALS["mains hum"], RATE)
    (folder / "c_hum.txt").write_text("I am so happy")
    out = tmp_path / "out.csv"
    argv = ["predict", str(embedded_model_dir), "--asr", "none", "--input", str(folder)]
    assert main([*argv, "--output", str(out)]) == 0
    rows = {row["id"]: row for row in csv.DictReader(out.open())}
    assert rows["a_speech"]["error"] == "" and float(rows["a_speech"]["duration_s"]) > 1.5
    assert "holds no speech" in rows["b_noise"]["error"]
    assert rows["c_hum"]["error"] == "" and rows["c_hum"]["duration_s"] == ""
