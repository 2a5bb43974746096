"""The transcript-reliability judgement of hriemo-v2 (model/reliability.py) reaches the result,
its JSON and the server's schema, and a transcript with most words missing reads as less
complete than the full one (the head given a known word rate, as training would set it)."""

from __future__ import annotations

import math

import torch

from hri_emo.serve.schemas import ExplanationBody


def test_a_cut_transcript_reads_as_less_complete_and_lets_the_voice_in(asr_recognizer, spoken):
    speech = spoken[0]  # "Please put the red cup on the kitchen table", 9 words
    wave = speech.resampled(16000).wave
    check = asr_recognizer.model.transcript_check
    seconds = len(wave) / 16000
    with torch.no_grad():  # as training leaves it for a corpus speaking at this rate
        check.rate_mean.fill_(math.log(9 / seconds))
        check.rate_std.fill_(0.3)
    full = asr_recognizer.classify(wave, " ".join(speech.words))
    cut = asr_recognizer.classify(wave, "please table")
    assert full.transcript_reliability > 0.9
    assert cut.transcript_reliability < 0.2 < full.transcript_reliability - 0.5
    assert cut.beta_mean > full.beta_mean
    body = ExplanationBody.model_validate(full.to_dict())
    assert body.transcript_reliability == full.transcript_reliability
    text_only = asr_recognizer.classify(None, "please put the red cup")
    assert text_only.transcript_reliability is None  # nothing to judge it against
