"""`EnsembleModel` (model/ensemble.py): the mean of its members' logits and maps, exact parts
still summing to the logits, saved and read like any model, exported to ONNX."""

from __future__ import annotations

import json

import pytest
import torch
from tests.model.conftest import random_inputs, tiny_model

from hri_emo.errors import ConfigError
from hri_emo.model import load_model
from hri_emo.model.ensemble import EnsembleModel


def _member(seed: int, **overrides) -> torch.nn.Module:
    """A tiny hriemo-v2 with large random weights (its read-outs would start at zero)."""
    model = tiny_model("hriemo-v2", task="singlelabel", **overrides)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(0.3 * torch.randn(parameter.shape, generator=generator))
    return model.eval()


def _inputs() -> dict[str, torch.Tensor]:
    inputs = random_inputs(batch=3, task="singlelabel")
    inputs["text_mask"][2] = False  # an item answered from audio alone
    return inputs


def test_the_ensemble_is_the_mean_of_its_members_and_its_maps_stay_exact():
    members = [_member(seed) for seed in (1, 2, 3)]
    ensemble = EnsembleModel(members).eval()
    inputs = _inputs()
    with torch.no_grad():
        outs = [member(**inputs) for member in members]
        out = ensemble(**inputs)
    mean = torch.stack([o.logits for o in outs]).mean(0)
    assert torch.allclose(out.logits, mean, atol=1e-6)
    assert torch.allclose(out.probabilities, mean.softmax(-1), atol=1e-6)
    assert torch.allclose(out.beta_mean, torch.stack([o.beta_mean for o in outs]).mean(0))
    assert torch.allclose(out.attribution, torch.stack([o.attribution for o in outs]).mean(0))
    parts = out.word_contributions.sum(-1) + out.frame_contributions.sum(-1)
    assert torch.allclose(parts + out.bias_contribution, out.logits, atol=1e-5)
    assert not torch.allclose(outs[0].logits, outs[1].logits)  # the members do differ
    loss = torch.nn.functional.cross_entropy(mean, inputs["labels"])
    assert torch.allclose(out.loss, loss, atol=1e-6)


def test_an_ensemble_is_saved_and_read_like_any_model(tmp_path):
    ensemble = EnsembleModel([_member(1), _member(2)]).eval()
    ensemble.save_pretrained(tmp_path / "ens")
    loaded = load_model(tmp_path / "ens")
    assert isinstance(loaded, EnsembleModel) and loaded.size == 2
    assert loaded.accepts_times and loaded.config.emotions == ensemble.config.emotions
    inputs = {k: v for k, v in _inputs().items() if k != "labels"}
    with torch.no_grad():
        assert torch.equal(loaded(**inputs).logits, ensemble(**inputs).logits)
    record = tmp_path / "ens" / "ensemble.json"
    record.write_text(json.dumps({"members": ["members/0", "../elsewhere"]}))
    with pytest.raises(ConfigError, match=r"'\.\./elsewhere' is not a folder inside"):
        load_model(tmp_path / "ens")
    record.write_text("{not json")
    with pytest.raises(ConfigError, match="is not an ensemble record"):
        load_model(tmp_path / "ens")


def test_members_that_cannot_be_averaged_are_refused():
    with pytest.raises(ConfigError, match="at least 2 models"):
        EnsembleModel([_member(1)])
    other = _member(2, emotions=["a", "b", "c", "d"])
    with pytest.raises(ConfigError, match="member 1 has emotions"):
        EnsembleModel([_member(1), other])
    with pytest.raises(ConfigError, match="member 1 has context_turns 2, member 0 0"):
        EnsembleModel([_member(1), _member(2, context_turns=2)])  # one reads past turns
    with pytest.raises(ConfigError, match="single models, not ensembles"):
        EnsembleModel([EnsembleModel([_member(1), _member(2)]), _member(3)])


def test_an_ensemble_exports_to_onnx_with_the_same_answers(tmp_path):
    from hri_emo.inference.onnx_backend import OnnxFusionModel, export_onnx, parity

    ensemble = EnsembleModel([_member(1), _member(2)]).eval()
    path = export_onnx(ensemble, tmp_path / "model.onnx")
    assert parity(ensemble, OnnxFusionModel(path, ensemble.config)) < 1e-4
