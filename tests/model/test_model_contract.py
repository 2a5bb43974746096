"""Every registered model passes the same contract (timm-style): forward, backward, no NaN,
every parameter trained, padding invariance, missing-modality handling and save/load."""

from __future__ import annotations

import pytest
import torch

from hri_emo.errors import InputShapeError
from hri_emo.model import HriEmoOutput, list_models, load_model


@pytest.fixture(params=list_models())
def name(request) -> str:
    return request.param


def _contract_inputs(model, make_inputs, task: str = "multilabel") -> dict:
    """A padded batch; fusion models also get an item without text and one without audio."""
    inputs = make_inputs(batch=4, task=task)
    if not model.required_modalities:
        inputs["text_mask"][1] = False
        inputs["audio_mask"][2] = False
    if getattr(model, "accepts_times", False):  # as a timed feature store gives them
        for key, step in (("text", 0.3), ("audio", 0.2)):
            length = inputs[key].shape[1]
            start = torch.arange(length, dtype=torch.float32)[None, :, None] * step
            inputs[f"{key}_times"] = torch.cat([start, start + step], dim=-1).repeat(4, 1, 1)
    return inputs


@pytest.mark.parametrize("task", ["multilabel", "singlelabel"])
def test_forward_backward_and_every_parameter_gets_a_gradient(
    name, task, make_model, make_inputs, stacked
):
    model = make_model(name, task=task, intensity_head=True, **stacked(name))
    inputs = _contract_inputs(model, make_inputs, task)
    out = model(**inputs, intensities=3 * torch.rand(4, 4))
    assert isinstance(out, HriEmoOutput)
    assert out.logits.shape == out.probabilities.shape == out.intensity.shape == (4, 4)
    for field, value in vars(out).items():
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            assert torch.isfinite(value).all(), f"{name}: {field} has NaN/Inf"
    out.loss.backward()
    if not model.required_modalities:
        # A second batch with every modality present trains what the missing items bypass.
        model(**make_inputs(batch=4, task=task, seed=1)).loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    assert not missing, f"{name}: parameters without gradient: {missing}"


def test_padding_invariance(name, make_model, make_inputs, pad_garbage):
    model = make_model(name).eval()
    inputs = make_inputs()
    reference = model(**inputs)
    text, text_mask = pad_garbage(inputs["text"], inputs["text_mask"], extra=4)
    audio, audio_mask = pad_garbage(inputs["audio"], inputs["audio_mask"], extra=7)
    padded = model(text=text, text_mask=text_mask, audio=audio, audio_mask=audio_mask)
    torch.testing.assert_close(padded.logits, reference.logits, atol=1e-5, rtol=0)


def test_save_and_load_round_trip(name, make_model, make_inputs, tmp_path):
    model = make_model(name).eval()
    inputs = make_inputs()
    model.save_pretrained(tmp_path)
    loaded = load_model(tmp_path)
    assert type(loaded) is type(model) and loaded.config == model.config
    assert torch.equal(loaded(**inputs).logits, model(**inputs).logits)


def test_missing_modality_behaviour(name, make_model, make_inputs):
    model = make_model(name).eval()
    inputs = make_inputs()
    for absent in ("text", "audio"):
        without = {**inputs, absent: None, f"{absent}_mask": None}
        if absent in model.required_modalities:
            with pytest.raises(
                InputShapeError, match=f"needs {absent} features, but {absent} is None"
            ):
                model(**without)
        else:
            assert torch.isfinite(model(**without).logits).all()
    for required in model.required_modalities:
        inputs[f"{required}_mask"][3] = False
        with pytest.raises(
            InputShapeError, match=rf"item\(s\) \[3\] have an all-False {required}_mask"
        ):
            model(**inputs)


def test_wrong_feature_dim_is_a_clear_error(name, make_model, make_inputs):
    model = make_model(name)
    modality = model.required_modalities[0] if model.required_modalities else "text"
    inputs = make_inputs()
    inputs[modality] = torch.randn(4, 6, 7)
    inputs[f"{modality}_mask"] = None
    with pytest.raises(
        InputShapeError, match=f"{modality} features have dim 7 but the model expects"
    ):
        model(**inputs)
