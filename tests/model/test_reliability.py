"""Audio reliability (model/reliability.py): a head learns how clean each audio frame is from
items of known SNR, and scales the beta of the words that listen to those frames."""

from __future__ import annotations

import math

import torch
from tests.model.conftest import random_inputs, tiny_model
from tests.model.test_model_explained import _randomised, _times

from hri_emo.model.reliability import reliability_target

INF = float("inf")


def test_targets_run_from_noise_only_to_clean():
    snr = torch.tensor([-INF, -5.0, 10.0, 25.0, 40.0, INF, float("nan")])
    target = reliability_target(snr)
    assert target[:6].tolist() == [0.0, 0.0, 0.5, 1.0, 1.0, 1.0]
    assert math.isnan(target[6])  # unknown SNR: no target


def test_only_the_reliability_loss_trains_the_head():
    inputs = random_inputs(batch=4, task="singlelabel")
    model = tiny_model("hriemo-v2", task="singlelabel", audio_reliability=1.0).train()
    model(**inputs, audio_snr=torch.full((4,), float("nan"))).loss.backward()  # no target: the
    # emotion loss alone, and the gate reads r without gradient
    head = list(model.reliability.parameters())
    assert all(p.grad is None or p.grad.abs().max() == 0 for p in head)
    snr = torch.tensor([INF, 0.0, -INF, 12.0])
    with_targets = model(**inputs, audio_snr=snr)
    model.zero_grad()
    with_targets.loss.backward()
    assert any(p.grad is not None and p.grad.abs().max() > 0 for p in head)
    assert with_targets.frame_reliability.shape == inputs["audio_mask"].shape


def test_unreliable_frames_lower_the_beta_of_the_words_spoken_over_them():
    """Frames of the second half judged unreliable: the words spoken there lose their trust in
    the voice, the words of the clean half keep it; the maps still add up to the logits."""
    model = _randomised(tiny_model("hriemo-v2", time_prior_s=0.02, audio_reliability=1.0))
    inputs = random_inputs(batch=2, text_len=6, audio_len=48)
    inputs["text_mask"][:] = True
    inputs["audio_mask"][:] = True
    kwargs = {k: inputs[k] for k in ("text", "text_mask", "audio", "audio_mask")}
    times = {
        "text_times": _times(2, 6, step=0.16, width=0.16),  # 6 words over 0.96 s
        "audio_times": _times(2, 48, step=0.02, width=0.02),
    }
    with torch.no_grad():  # the head reads feature 0, high on the second half's frames only
        second_half = torch.arange(48) >= 24
        kwargs["audio"][:, :, 0] = torch.where(second_half, 30.0, -30.0)
        first, last = model.reliability.head[0], model.reliability.head[-1]
        first.weight.zero_(), first.bias.zero_(), last.weight.zero_()
        first.weight[0, 0] = 1.0
        last.weight[0, 0] = -20.0
        last.bias.fill_(3.0)
    out = model(**kwargs, **times)
    plain = tiny_model("hriemo-v2", time_prior_s=0.02, audio_reliability=0.0).eval()  # no head
    plain.load_state_dict(model.state_dict(), strict=False)
    r = out.frame_reliability
    assert r[:, :24].min() > 0.9 and r[:, 24:].max() < 0.01
    kept = out.beta.mean(-1) / plain(**kwargs, **times).beta.mean(-1)  # (B, 6) per word
    assert (kept[:, :2] > 0.9).all() and (kept[:, 4:] < 0.05).all(), kept
    parts = out.word_contributions.sum(-1) + out.frame_contributions.sum(-1)
    torch.testing.assert_close(parts + out.bias_contribution, out.logits, atol=1e-5, rtol=0)
