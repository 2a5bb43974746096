"""load_audio on real files: resampling, down-mixing, segments, and every kind of bad audio."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from hri_emo.encoders import load_audio
from hri_emo.errors import AudioError


def tone(freq: float, seconds: float, sr: int) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_frequency(wave: np.ndarray, sr: int = 16000) -> float:
    spectrum = np.abs(np.fft.rfft(wave))
    return float(np.fft.rfftfreq(len(wave), 1 / sr)[spectrum.argmax()])


@pytest.mark.parametrize("sr", [8000, 22050, 48000])
def test_resamples_to_16k_keeping_pitch(tmp_path, write_wav, sr):
    path = write_wav(tmp_path / f"tone_{sr}.wav", tone(440.0, 1.5, sr), sr)
    wave = load_audio(path)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert abs(len(wave) - 24000) <= 2
    assert abs(dominant_frequency(wave) - 440.0) < 2.0


def test_a_full_scale_recording_stays_inside_the_unit_range_when_resampled(tmp_path, write_wav):
    """Resampling rings past +-1 on a full-scale signal (a clipped square wave here, as EmoDB's
    08a04Wc at 22.05 kHz): the loaded samples stay in [-1, 1], so the file is not refused."""
    sr = 22050
    square = np.sign(np.sin(2 * np.pi * 200 * np.arange(sr) / sr)).astype(np.float32) * 0.99997
    path = write_wav(tmp_path / "loud.wav", square, sr)
    wave = load_audio(path)
    assert np.abs(wave).max() <= 1.0
    from hri_emo.inference.batch import prepare_wave

    prepare_wave(wave, 16000, "loud.wav")  # accepted, not "samples outside [-1, 1]"


def test_stereo_is_down_mixed_to_mono(tmp_path, write_wav):
    left = tone(300.0, 1.0, 16000)
    stereo = np.stack([left, np.zeros_like(left)], axis=1)
    wave = load_audio(write_wav(tmp_path / "stereo.wav", stereo))
    assert wave.shape == (16000,)
    np.testing.assert_allclose(wave, left / 2, atol=1e-4)  # mean of the two channels


def test_segment_start_end_is_honoured(tmp_path, write_wav):
    samples = np.concatenate([tone(200.0, 1.0, 16000), tone(1000.0, 1.0, 16000)])
    path = write_wav(tmp_path / "two_tones.wav", samples)
    second = load_audio(path, start=1.0, end=2.0)
    assert len(second) == 16000
    assert abs(dominant_frequency(second) - 1000.0) < 2.0
    assert len(load_audio(path, start=0.25, end=0.75)) == 8000


def test_segment_past_the_end_is_cut_and_bad_segments_fail(tmp_path, write_wav):
    path = write_wav(tmp_path / "one_second.wav", tone(200.0, 1.0, 16000))
    assert len(load_audio(path, start=0.5, end=3.0)) == 8000
    with pytest.raises(AudioError, match=r"one_second\.wav.*starts at 2\.000"):
        load_audio(path, start=2.0, end=3.0)
    with pytest.raises(AudioError, match="start < end"):
        load_audio(path, start=0.6, end=0.5)


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match=r"not found: .*nowhere\.wav"):
        load_audio(tmp_path / "nowhere.wav")


def test_empty_file_with_zero_samples(tmp_path, write_wav):
    path = write_wav(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32))
    with pytest.raises(AudioError, match=r"empty\.wav is empty: 0 samples"):
        load_audio(path)


def test_corrupt_file_is_not_audio(tmp_path):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00this is not a wave file at all" * 10)
    with pytest.raises(AudioError, match=r"corrupt\.wav.*corrupt or not an audio file"):
        load_audio(path)


def test_silent_file_is_an_error(tmp_path, write_wav):
    path = write_wav(tmp_path / "silent.wav", np.zeros(16000, dtype=np.float32))
    with pytest.raises(AudioError, match=r"silent\.wav is silent: all 16000 samples are zero"):
        load_audio(path)


def test_nan_samples_are_an_error(tmp_path, write_wav):
    samples = tone(200.0, 0.5, 16000)
    samples[100] = np.nan
    path = write_wav(tmp_path / "nan.wav", samples, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"nan\.wav contains NaN"):
        load_audio(path)


def test_ten_minute_file_streams_to_16k(tmp_path):
    sr, seconds = 48000, 600
    path = tmp_path / "ten_minutes.flac"
    block = tone(220.0, 60.0, sr)
    with sf.SoundFile(str(path), "w", samplerate=sr, channels=2, format="FLAC") as handle:
        for _ in range(seconds // 60):
            handle.write(np.stack([block, block], axis=1))
    wave = load_audio(path)
    assert abs(len(wave) - seconds * 16000) <= 2
    assert abs(dominant_frequency(wave[:160000]) - 220.0) < 1.0
    assert np.abs(wave[-16000:]).max() > 0.4  # the end is there, at full level
