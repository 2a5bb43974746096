"""Registry, presets, configs and save/load."""

from __future__ import annotations

import json

import pytest
import torch

from hri_emo.errors import ConfigError, DataError
from hri_emo.model import (
    HriEmoConfig,
    HriEmoModel,
    TextOnlyModel,
    create_model,
    get_config,
    list_models,
    load_model,
    register_preset,
    registry,
)

PRESETS = ["audio-only", "early-fusion", "hriemo-v1", "hriemo-v2", "late-fusion", "text-only"]


def test_all_presets_are_listed():
    assert set(PRESETS) <= set(list_models())


def test_v1_and_v2_presets():
    v1, v2 = get_config("hriemo-v1"), get_config("hriemo-v2")
    assert (v1.fusion, v1.num_fusion_layers, v1.dropout) == ("cross_modal", 2, 0.1)
    assert (v2.fusion, v2.num_fusion_layers) == ("simplified", 1)
    assert not v2.audio_residual and v2.pooled_readout and not v1.pooled_readout
    assert v1.hidden_dim == v2.hidden_dim == 128


def test_create_model_applies_overrides():
    model = create_model("hriemo-v2", text_dim=20, audio_dim=8, hidden_dim=16, num_heads=2)
    assert isinstance(model, HriEmoModel)
    assert model.config.text_dim == 20 and model.config.name == "hriemo-v2"
    assert model.text_projection.linear.in_features == 20


def test_unknown_name_lists_available_models():
    with pytest.raises(ConfigError, match="unknown model 'hriemo-v9'; available: audio-only"):
        create_model("hriemo-v9")


def test_unknown_override_is_named():
    with pytest.raises(ConfigError, match=r"unknown override.*hidden_size"):
        create_model("hriemo-v1", hidden_size=16)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hidden_dim": 30, "num_heads": 4}, "hidden_dim must be a multiple of num_heads"),
        ({"task": "regression"}, "task must be"),
        ({"dropout": 1.0}, "dropout must be a rate"),
        ({"pos_weight": [1.0]}, "pos_weight must be None or 6 values"),
        ({"emotions": []}, "emotions must be at least one"),
    ],
)
def test_invalid_configs_are_rejected(overrides, message):
    with pytest.raises(ConfigError, match=message):
        create_model("hriemo-v1", **overrides)


def test_architecture_mismatch_is_a_config_error():
    with pytest.raises(ConfigError, match=r"architecture 'hriemo'.*TextOnlyModel"):
        TextOnlyModel(HriEmoConfig())


def test_register_a_new_preset(monkeypatch):
    monkeypatch.setattr(registry, "_PRESETS", dict(registry._PRESETS))  # undone after the test

    @register_preset("hriemo-test-tiny")
    def _tiny() -> HriEmoConfig:
        return HriEmoConfig(name="hriemo-test-tiny", hidden_dim=8, num_heads=2)

    assert "hriemo-test-tiny" in list_models()
    assert create_model("hriemo-test-tiny").config.hidden_dim == 8
    with pytest.raises(ConfigError, match="already registered"):
        register_preset("hriemo-test-tiny")(_tiny)


def test_config_round_trips_through_json(tmp_path):
    config = get_config("hriemo-v2", emotions=["x", "y"], task="singlelabel", pos_weight=None)
    config.save(tmp_path / "config.json")
    assert HriEmoConfig.load(tmp_path / "config.json") == config


def test_save_and_load_give_identical_outputs(tmp_path, make_model, make_inputs):
    model = make_model("hriemo-v1", intensity_head=True).eval()
    inputs = make_inputs()
    model.save_pretrained(tmp_path / "saved")
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == [
        "config.json",
        "model.safetensors",
    ]
    for loaded in (load_model(tmp_path / "saved"), HriEmoModel.from_pretrained(tmp_path / "saved")):
        assert loaded.config == model.config and not loaded.training
        out, reference = loaded(**inputs), model(**inputs)
        assert torch.equal(out.logits, reference.logits)
        assert torch.equal(out.intensity, reference.intensity)


def test_loading_a_folder_without_weights_says_what_is_missing(tmp_path):
    get_config("hriemo-v1").save(tmp_path / "config.json")
    with pytest.raises(FileNotFoundError, match=r"model\.safetensors is missing"):
        load_model(tmp_path)


def test_loading_an_unknown_architecture_lists_the_known_ones(tmp_path, make_model):
    make_model().save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["architecture"] = "transformer_xl"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match=r"unknown architecture 'transformer_xl'.*early_fusion"):
        load_model(tmp_path)


def test_weights_of_a_different_shape_fail_to_load(tmp_path, make_model):
    make_model().save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["text_dim"] = 13
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(DataError, match=r"model\.safetensors does not fit .*text_projection"):
        load_model(tmp_path)
