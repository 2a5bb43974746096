"""The transcript judgements of hriemo-v2 reach the result: the word rate (model/reliability.py;
the head given a known rate, as training would set it), and a transcript the aligner finds not
to match the speech (inference/timing.py), which the gate is told not to trust."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hri_emo.serve.schemas import ExplanationBody


def test_fewer_words_over_the_same_recording_read_as_less_complete(asr_recognizer):
    """Through the recognizer (classify_features: no aligner involved), 2 words over the frames
    of 9 read as an incomplete transcript and let the voice in; the server schema carries it."""
    rng = np.random.default_rng(0)
    frames = rng.normal(size=(100, 384)).astype(np.float32)  # 2 s at 50 frames per second
    times = np.stack([np.arange(100) * 0.02, np.arange(1, 101) * 0.02], axis=1)
    words = rng.normal(size=(9, 384)).astype(np.float32)
    check = asr_recognizer.model.transcript_check
    saved = {k: v.clone() for k, v in check.state_dict().items()}  # the fixture is shared
    try:
        with torch.no_grad():  # as training leaves it for a corpus speaking 4.5 words/s
            check.rate_mean.fill_(math.log(4.5))
            check.rate_std.fill_(0.3)
        full = asr_recognizer.classify_features(words, frames, frame_times=times)
        cut = asr_recognizer.classify_features(words[[0, 8]], frames, frame_times=times)
    finally:
        check.load_state_dict(saved)
    assert full.transcript_reliability > 0.9
    assert cut.transcript_reliability < 0.2 < full.transcript_reliability - 0.5
    assert cut.beta_mean > full.beta_mean
    body = ExplanationBody.model_validate(full.to_dict())
    assert body.transcript_reliability == full.transcript_reliability
    text_only = asr_recognizer.classify(None, "please put the red cup")
    assert text_only.transcript_reliability is None  # nothing to judge it against


def test_a_garbage_transcript_over_clean_speech_is_answered_from_the_voice(asr_recognizer, spoken):
    """Random characters as the transcript of clear speech: the aligner finds they do not match,
    the gate is told not to trust them as far as the speech is clean (beta ~ the voice's
    reliability), and a note says so."""
    wave = spoken[1].resampled(16000).wave
    matched = asr_recognizer.classify(wave, " ".join(spoken[1].words))
    garbage = asr_recognizer.classify(wave, "xq zzvk pttrw qoh gwmmf")
    assert matched.alignment_confidence >= 0.3 and garbage.alignment_confidence < 0.3
    assert any("model was told not to trust it" in note for note in garbage.notes)
    assert not any("model was told not to trust it" in note for note in matched.notes)
    heard = float(np.mean(garbage.audio_reliability))  # the speech is clean: ~0.9
    assert garbage.transcript_reliability == pytest.approx(1 - heard, abs=0.02)
    assert garbage.beta_mean >= 0.85 * heard  # beta ~ rho: answered from the voice
    assert garbage.beta_mean > matched.beta_mean + 0.1
