"""Missing modalities: the model still answers, and beta shows full reliance on the one present."""

from __future__ import annotations

import pytest
import torch

from hri_emo.errors import InputShapeError


@pytest.fixture(params=["hriemo-v1", "hriemo-v2"])
def model(request, make_model, stacked):
    return make_model(request.param, **stacked(request.param)).eval()


def _without(inputs: dict, *names: str) -> dict:
    return {k: (None if k in names else v) for k, v in inputs.items() if k != "labels"}


def test_no_text_in_batch_gives_beta_one_on_a_placeholder_axis(model, make_inputs):
    inputs = make_inputs()
    out = model(**_without(inputs, "text", "text_mask"))
    assert out.beta.shape[:2] == (4, 1) and out.fused_mask.all()
    assert torch.all(out.beta == 1) and torch.all(out.beta_mean == 1)
    assert out.alignment.shape == (4, 1, 9)
    torch.testing.assert_close(out.alignment.sum(-1), torch.ones(4, 1))
    assert torch.all(out.alignment[:, 0][~inputs["audio_mask"]] == 0)
    torch.testing.assert_close(out.attribution, torch.ones(4, 4, 1))
    assert torch.isfinite(out.logits).all()


def test_no_audio_in_batch_gives_beta_zero_and_no_alignment(model, make_inputs):
    inputs = make_inputs()
    out = model(**_without(inputs, "audio", "audio_mask"))
    assert out.beta.shape[:2] == (4, 6)
    assert torch.all(out.beta == 0) and torch.all(out.beta_mean == 0)
    assert out.alignment.shape == (4, 6, 1) and torch.all(out.alignment == 0)
    torch.testing.assert_close(out.attribution.sum(-1), torch.ones(4, 4))


def test_items_without_text_in_a_batch_with_text(model, make_inputs):
    inputs = make_inputs()
    inputs["text_mask"][[1, 3]] = False
    out = model(**_without(inputs))
    for i in (1, 3):
        assert out.fused_mask[i].tolist() == [True] + [False] * 5
        assert torch.all(out.beta[i, 0] == 1) and out.beta_mean[i] == 1
    assert torch.all(out.beta_mean[[0, 2]] < 1)
    alone = model(**_without({k: v[[1, 3]] for k, v in inputs.items()}, "text", "text_mask"))
    torch.testing.assert_close(out.logits[[1, 3]], alone.logits, atol=1e-5, rtol=0)
    torch.testing.assert_close(out.alignment[[1, 3], :1], alone.alignment, atol=1e-5, rtol=0)


def test_items_without_audio_in_a_batch_with_audio(model, make_inputs):
    inputs = make_inputs()
    inputs["audio_mask"][0] = False
    out = model(**_without(inputs))
    assert torch.all(out.beta[0] == 0) and out.beta_mean[0] == 0
    assert torch.all(out.alignment[0] == 0)
    assert torch.all(out.beta_mean[1:] > 0)
    alone = model(**_without({k: v[:1] for k, v in inputs.items()}, "audio", "audio_mask"))
    torch.testing.assert_close(out.logits[:1], alone.logits, atol=1e-5, rtol=0)


def test_item_with_neither_modality_is_named(model, make_inputs):
    inputs = make_inputs()
    inputs["text_mask"][2] = False
    inputs["audio_mask"][2] = False
    with pytest.raises(InputShapeError, match=r"batch item\(s\) \[2\] have neither text nor audio"):
        model(**inputs)


def test_no_text_and_one_item_without_audio_is_an_error(model, make_inputs):
    inputs = make_inputs()
    inputs["audio_mask"][3] = False
    with pytest.raises(InputShapeError, match=r"\[3\]"):
        model(**_without(inputs, "text", "text_mask"))


def test_placeholders_are_trained_when_a_modality_is_missing(make_model, make_inputs):
    model = make_model()
    inputs = make_inputs()
    inputs["text_mask"][1] = False
    inputs["audio_mask"][2] = False
    model(**inputs).loss.backward()
    assert model.text_placeholder.grad.abs().sum() > 0
    assert model.audio_placeholder.grad.abs().sum() > 0


def test_placeholders_get_no_gradient_when_everything_is_present(make_model, make_inputs):
    model = make_model()
    model(**make_inputs()).loss.backward()
    for placeholder in (model.text_placeholder, model.audio_placeholder):
        assert placeholder.grad is None or torch.all(placeholder.grad == 0)
