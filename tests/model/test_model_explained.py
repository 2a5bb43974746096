"""hriemo-v2's exact maps, time prior and gate supervision (model/additive.py,
model/time_prior.py, model/gate_supervision.py)."""

from __future__ import annotations

import torch
from tests.model.conftest import random_inputs, tiny_model


def _randomised(model: torch.nn.Module) -> torch.nn.Module:
    """Large random weights everywhere (read-outs start at zero, which would hide a mistake)."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(0.3 * torch.randn(parameter.shape, generator=generator))
    return model.eval()


def _times(batch: int, length: int, step: float, width: float) -> torch.Tensor:
    start = torch.arange(length) * step
    return torch.stack([start, start + width], dim=-1)[None].repeat(batch, 1, 1)


def test_contributions_sum_to_the_logits_for_every_input_shape():
    model = _randomised(tiny_model("hriemo-v2"))
    inputs = random_inputs(batch=4, text_len=6, audio_len=9)
    inputs["text_mask"][2] = False  # an item answered from audio alone
    cases = [
        {k: inputs[k] for k in ("text", "text_mask", "audio", "audio_mask")},
        {"audio": inputs["audio"], "audio_mask": inputs["audio_mask"]},  # no text in the batch
        {"text": inputs["text"], "text_mask": inputs["text"].abs().sum(-1) > 0},  # no audio
    ]
    for case in cases:
        out = model(**case)
        parts = out.word_contributions.sum(-1) + out.frame_contributions.sum(-1)
        assert torch.allclose(parts + out.bias_contribution, out.logits, atol=1e-5)
        # each emotion gets its own map, not one shared row
        maps = torch.cat([out.word_contributions[0], out.frame_contributions[0]], dim=-1)
        assert (maps[0] - maps[1]).abs().max() > 1e-3
    no_text = model(audio=inputs["audio"], audio_mask=inputs["audio_mask"])
    assert no_text.word_contributions.abs().max() == 0  # the placeholder says nothing


def test_padding_and_missing_modalities_contribute_nothing():
    model = _randomised(tiny_model("hriemo-v2"))
    inputs = random_inputs(batch=3, text_len=6, audio_len=9)
    out = model(**{k: inputs[k] for k in ("text", "text_mask", "audio", "audio_mask")})
    padded_words = ~inputs["text_mask"]
    padded_frames = ~inputs["audio_mask"]
    assert out.word_contributions.permute(0, 2, 1)[padded_words].abs().max() == 0
    assert out.frame_contributions.permute(0, 2, 1)[padded_frames].abs().max() == 0


def test_time_prior_puts_each_word_on_its_own_frames():
    model = _randomised(tiny_model("hriemo-v2", time_prior_s=0.02))
    inputs = random_inputs(batch=2, text_len=5, audio_len=40)
    inputs["text_mask"][:] = True
    inputs["audio_mask"][:] = True
    text_times = _times(2, 5, step=0.16, width=0.16)  # word i spoken in [0.16 i, 0.16 (i+1)]
    audio_times = _times(2, 40, step=0.02, width=0.02)
    text_times[1, 3] = float("nan")  # one word the aligner could not place
    kwargs = {k: inputs[k] for k in ("text", "text_mask", "audio", "audio_mask")}
    timed = model(**kwargs, text_times=text_times, audio_times=audio_times)
    peaks = audio_times[0, timed.alignment[0].argmax(-1)].mean(-1)  # (5,) seconds
    assert ((peaks >= text_times[0, :, 0]) & (peaks <= text_times[0, :, 1])).all()
    untimed = model(**kwargs)
    assert not torch.allclose(timed.alignment[0], untimed.alignment[0])
    assert torch.allclose(timed.alignment[1, 3], untimed.alignment[1, 3], atol=1e-6)


def test_gate_supervision_trains_both_forced_branches():
    inputs = random_inputs(batch=4, task="singlelabel")
    base = tiny_model("hriemo-v2", task="singlelabel", gate_supervision=0.0).train()
    supervised = tiny_model("hriemo-v2", task="singlelabel", gate_supervision=1.0).train()
    supervised.load_state_dict(base.state_dict())
    torch.manual_seed(0)
    plain = base(**inputs).loss
    torch.manual_seed(0)
    total = supervised(**inputs).loss
    assert total > plain  # forced-branch losses and the gate's BCE are added
    total.backward()
    gate = supervised.backbone.gate.gate.weight.grad
    assert gate is not None and gate.abs().sum() > 0
    # in eval mode the loss is the task loss alone
    base.eval(), supervised.eval()
    assert torch.allclose(base(**inputs).loss, supervised(**inputs).loss)
