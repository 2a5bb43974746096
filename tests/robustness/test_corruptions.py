"""Each corruption at its stated level: measured SNR, gain, clipping share, band, error rates."""

from __future__ import annotations

import jiwer
import numpy as np
import pytest
import torch

from hri_emo.errors import ConfigError
from hri_emo.robustness import corruptions as C
from hri_emo.robustness.conditions import default_conditions, parse_condition


@pytest.fixture
def speech_like() -> np.ndarray:
    t = np.arange(32000) / 16000
    phase = 2 * np.pi * np.cumsum(150 + 40 * np.sin(2 * np.pi * 0.5 * t)) / 16000
    wave = sum(np.sin(k * phase) / k for k in range(1, 12))
    return (0.2 * wave * (0.3 + np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None))).astype(np.float32)


@pytest.mark.parametrize("snr", [20, 10, 0])
def test_white_noise_has_the_stated_snr(speech_like, snr):
    noisy = C.white_noise(speech_like, snr, np.random.default_rng(1))
    assert abs(C.measured_snr_db(speech_like, noisy) - snr) < 0.5


@pytest.mark.parametrize("snr", [20, 10, 0])
def test_babble_of_other_utterances_has_the_stated_snr(speech_like, snr):
    rng = np.random.default_rng(2)
    others = [np.roll(speech_like, 4000 * k) * (0.5 + 0.2 * k) for k in range(1, 6)]
    noisy = C.babble(speech_like, others, snr, rng)
    assert abs(C.measured_snr_db(speech_like, noisy) - snr) < 0.5


def test_gain_changes_the_level_by_the_stated_db(speech_like):
    quiet = C.gain(speech_like, -20, np.random.default_rng(0))
    change = 10 * np.log10(C.signal_power(quiet) / C.signal_power(speech_like))
    assert change == pytest.approx(-20, abs=0.05)


def test_clipping_flattens_the_stated_share_of_samples(speech_like):
    clipped = C.clipping(speech_like, 20, np.random.default_rng(0))
    at_limit = (clipped >= clipped.max()) | (clipped <= clipped.min())  # both clipped tails
    assert at_limit.mean() == pytest.approx(0.20, abs=0.02)
    assert np.abs(clipped).max() < np.abs(speech_like).max()


def test_telephone_removes_everything_above_the_8k_band():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=32000).astype(np.float32) * 0.1
    narrow = C.telephone(noise, rng)
    spectrum = np.abs(np.fft.rfft(narrow)) ** 2
    freqs = np.fft.rfftfreq(len(narrow), 1 / 16000)
    original = np.abs(np.fft.rfft(noise)) ** 2
    assert spectrum[freqs > 4200].sum() < 0.001 * original[freqs > 4200].sum()
    assert (
        spectrum[(freqs > 800) & (freqs < 3000)].sum()
        > 0.5 * original[(freqs > 800) & (freqs < 3000)].sum()
    )
    assert len(narrow) == len(noise)


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5])
def test_word_dropout_deletes_the_stated_share_of_words(rate):
    rng = np.random.default_rng(0)
    texts = [" ".join(f"w{i}_{j}" for j in range(20)) for i in range(100)]
    kept = sum(len(C.word_dropout(t, rate, rng).split()) for t in texts)
    assert 1 - kept / 2000 == pytest.approx(rate, abs=0.03)


def test_asr_like_errors_reach_the_stated_word_error_rate():
    rng = np.random.default_rng(0)
    vocabulary = [f"{a}{b}ing" for a in "abcdefgh" for b in "aeiou"]
    texts = [" ".join(rng.choice(vocabulary, size=15)) for _ in range(80)]
    noisy = [C.asr_like(t, 0.2, vocabulary, rng) for t in texts]
    assert jiwer.wer(texts, noisy) == pytest.approx(0.2, abs=0.03)


def test_word_swap_substitutes_the_stated_share_and_keeps_the_count():
    rng = np.random.default_rng(0)
    vocabulary = [f"word{i}" for i in range(50)]
    texts = [" ".join(rng.choice(vocabulary, size=15)) for _ in range(300)]
    swapped = [C.word_swap(t, 0.6, vocabulary, rng) for t in texts]
    assert all(len(a.split()) == len(b.split()) for a, b in zip(texts, swapped))
    assert jiwer.wer(texts, swapped) == pytest.approx(0.6, abs=0.03)


def test_whisper_transcripts_of_a_noisy_copy_are_a_text_condition():
    condition = parse_condition("whisper-asr-0db")
    assert (condition.kind, condition.corruption, condition.level) == ("text", "whisper-asr", 0)
    assert condition.needs_recordings
    assert parse_condition("word-swap-60pct").kind == "text"
    with pytest.raises(ConfigError, match="unknown robustness condition"):
        parse_condition("whisper-asr-10pct")


@pytest.mark.parametrize("snr", [20, 0])
def test_feature_noise_is_scaled_to_each_dimension_std(snr):
    features = torch.zeros(64, 10, 4)
    mask = torch.ones(64, 10, dtype=torch.bool)
    mask[:, 8:] = False
    std = torch.tensor([1.0, 2.0, 0.5, 10.0])
    noisy = C.feature_noise(features, mask, snr, std, torch.Generator().manual_seed(0))
    measured = noisy[:, :8].reshape(-1, 4).std(dim=0)
    np.testing.assert_allclose(measured, std * 10 ** (-snr / 20), rtol=0.05)
    assert torch.all(noisy[:, 8:] == 0)  # padding untouched


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: C.white_noise(np.ones(100, np.float32), 100, np.random.default_rng()), "snr_db"),
        (lambda: C.gain(np.ones(100, np.float32), -90, np.random.default_rng()), "gain_db"),
        (lambda: C.word_dropout("a b", 1.5, np.random.default_rng()), "word dropout"),
        (lambda: parse_condition("white-99db"), "white-99db"),
        (lambda: parse_condition("pink-10db"), "unknown robustness condition"),
        (lambda: parse_condition("word-dropout-30db"), "unknown robustness condition"),
    ],
)
def test_levels_outside_a_sensible_range_are_config_errors(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


def test_default_conditions_follow_what_the_corpus_has():
    with_wavs = [c.name for c in default_conditions(True)]
    without = [c.name for c in default_conditions(False)]
    assert {"white-0db", "babble-10db", "telephone", "gain--20db", "whisper-asr"} <= set(with_wavs)
    assert "feature-noise-0db" in without and "white-0db" not in without
    assert {"no-audio", "no-text", "word-dropout-50pct", "asr-like-20pct"} <= set(without)
