"""Transcript reliability (model/reliability.py, TextReliability): a head on the word rate learns
how complete a transcript is from the batch's own transcripts and copies with words removed,
and a transcript judged incomplete lets the voice in (beta rises), with the maps still exact."""

from __future__ import annotations

import math

import torch
from tests.model.conftest import random_inputs, tiny_model
from tests.model.test_model_explained import _randomised, _times

from hri_emo.model.reliability import TextReliability, recorded_seconds


def test_recorded_seconds_spans_the_valid_frames_and_is_nan_without_times():
    times = _times(2, 10, step=0.1, width=0.1)
    mask = torch.ones(2, 10, dtype=torch.bool)
    mask[1, 5:] = False
    times[1, 5:] = float("nan")
    assert torch.allclose(recorded_seconds(times, mask), torch.tensor([1.0, 0.5]))
    assert recorded_seconds(torch.full((1, 4, 2), float("nan")), mask[:1, :4]).isnan().all()


def test_the_head_learns_that_fewer_words_per_second_means_missing_words():
    torch.manual_seed(0)
    head = TextReliability()
    optimiser = torch.optim.Adam(head.parameters(), lr=0.05)
    words = torch.randint(6, 12, (64,)).float()
    seconds = words / 3.0 * (1 + 0.1 * torch.randn(64))  # ~3 words per second
    use = torch.ones(64, dtype=torch.bool)
    for _ in range(300):
        optimiser.zero_grad()
        head.loss(words, seconds, use).backward()
        optimiser.step()
    with torch.no_grad():
        whole = head(words, seconds).mean()
        forty_percent = head((0.4 * words).round(), seconds).mean()
    assert whole > 0.7 and whole - forty_percent > 0.3, (whole, forty_percent)


def _timed_inputs(words: int = 6):
    inputs = random_inputs(batch=2, text_len=words, audio_len=48)
    inputs["text_mask"][:] = True
    inputs["audio_mask"][:] = True
    kwargs = {k: inputs[k] for k in ("text", "text_mask", "audio", "audio_mask")}
    times = {
        "text_times": _times(2, words, step=0.96 / words, width=0.96 / words),
        "audio_times": _times(2, 48, step=0.02, width=0.02),
    }
    return kwargs, times


def test_an_incomplete_transcript_lets_the_voice_in_and_the_maps_stay_exact():
    model = _randomised(
        tiny_model(
            "hriemo-v2", time_prior_s=0.02, transcript_reliability=1.0, audio_reliability=0.0
        )
    )
    kwargs, times = _timed_inputs()
    check = model.transcript_check
    with torch.no_grad():  # 6 words in 0.96 s at the corpus's mean rate: tau = sigmoid(0.4)
        check.rate_mean.fill_(torch.log(torch.tensor(6 / 0.96)))
        check.slope.fill_(1.0), check.bias.fill_(0.4)
    out = model(**kwargs, **times)
    plain = tiny_model(
        "hriemo-v2", time_prior_s=0.02, audio_reliability=0.0, transcript_reliability=0.0
    ).eval()
    plain.load_state_dict(model.state_dict(), strict=False)
    before = plain(**kwargs, **times)
    tau = out.transcript_reliability
    torch.testing.assert_close(tau, torch.sigmoid(torch.tensor([0.4, 0.4])))
    expected = 1 - tau[:, None, None] * (1 - before.beta)  # 1 - beta shrinks by tau
    torch.testing.assert_close(out.beta, expected, atol=1e-5, rtol=0)
    parts = out.word_contributions.sum(-1) + out.frame_contributions.sum(-1)
    torch.testing.assert_close(parts + out.bias_contribution, out.logits, atol=1e-5, rtol=0)


def test_without_frame_times_or_audio_nothing_is_judged():
    model = tiny_model("hriemo-v2", transcript_reliability=1.0).eval()
    kwargs, times = _timed_inputs()
    assert model(**kwargs).transcript_reliability is None  # no times: off
    without_audio = {**kwargs, "audio_mask": torch.zeros_like(kwargs["audio_mask"])}
    out = model(**without_audio, **times)
    assert (out.transcript_reliability == 1).all()  # not judged: the gate unchanged
    assert (out.beta == 0).all()


def test_only_its_own_loss_trains_the_head_and_only_in_training():
    model = tiny_model("hriemo-v2", task="singlelabel", transcript_reliability=1.0).train()
    kwargs, times = _timed_inputs()
    labels = torch.tensor([0, 1])
    out = model(**kwargs, **times, labels=labels)
    head = list(model.transcript_check.parameters())
    grads = torch.autograd.grad(out.loss, head, allow_unused=True)
    assert any(g is not None and g.abs().max() > 0 for g in grads)
    emotion_loss = torch.nn.functional.cross_entropy(out.logits, labels)
    grads = torch.autograd.grad(emotion_loss, head, allow_unused=True)
    assert all(g is None or g.abs().max() == 0 for g in grads)  # the gate reads tau detached
    model.eval()
    first = model(**kwargs, **times, labels=labels).loss
    assert torch.equal(first, model(**kwargs, **times, labels=labels).loss)  # no random views


def test_a_transcript_known_not_to_match_the_speech_leaves_the_voice_alone_in_the_gate():
    """transcript_trust = 0 (the aligner found the transcript does not match the speech):
    beta = rho, the audio's own reliability; the maps still add up to the logits."""
    model = _randomised(tiny_model("hriemo-v2", time_prior_s=0.02, audio_reliability=0.0))
    kwargs, times = _timed_inputs()
    out = model(**kwargs, **times, transcript_trust=torch.tensor([0.0, 1.0]))
    assert torch.allclose(out.beta[0], torch.ones_like(out.beta[0]))  # no audio reliability: 1
    assert (out.beta[1] < 1).any()
    assert out.transcript_reliability[0] == 0
    parts = out.word_contributions.sum(-1) + out.frame_contributions.sum(-1)
    torch.testing.assert_close(parts + out.bias_contribution, out.logits, atol=1e-5, rtol=0)


def test_the_aligner_verdict_counts_as_far_as_the_audio_was_clean():
    """Noisy speech also makes a right transcript look unmatched: trust 0 becomes
    1 - mean frame reliability (here the head says 0.25 everywhere)."""
    model = _randomised(tiny_model("hriemo-v2", time_prior_s=0.02, transcript_reliability=0.0))
    kwargs, times = _timed_inputs()
    with torch.no_grad():
        model.reliability.head[-1].weight.zero_()
        model.reliability.head[-1].bias.fill_(-math.log(3.0))  # sigmoid -> 0.25
    out = model(**kwargs, **times, transcript_trust=torch.tensor([0.0, 1.0]))
    torch.testing.assert_close(out.transcript_reliability, torch.tensor([0.75, 1.0]))
    plain = model(**kwargs, **times)
    expected = 1 - 0.75 * (1 - plain.beta[0] / 0.25)  # beta = rho (1 - tau (1 - g))
    torch.testing.assert_close(out.beta[0], 0.25 * expected, atol=1e-5, rtol=0)
