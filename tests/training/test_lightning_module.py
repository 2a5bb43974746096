"""Lightning module + data module pieces: class weights, model sizing, modality dropout in the
training step only, and end-to-end text-encoder fine-tuning with its own learning rate."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from hri_emo.cli.main import main
from hri_emo.errors import ConfigError
from hri_emo.training.checkpoint import build_text_encoder
from hri_emo.training.config import load_config
from hri_emo.training.datamodule import EmotionDataModule
from hri_emo.training.train import build_module

EMOTIONS = ["happy", "sad", "anger"]  # the tiny multi-label corpus (conftest.py)


def _datamodule(corpus, tmp_path, *extra) -> tuple:
    cfg = load_config(None, corpus.overrides(tmp_path, *extra))
    datamodule = EmotionDataModule(cfg.data)
    datamodule.setup("fit")
    return cfg, datamodule


def test_pos_weight_from_training_split_only(tiny_multilabel, tmp_path):
    _, datamodule = _datamodule(tiny_multilabel, tmp_path)
    train = datamodule.records["train"]
    positives = np.array([[r.labels[e] > 0 for e in EMOTIONS] for r in train]).sum(0)
    expected = (len(train) - positives) / positives
    np.testing.assert_allclose(datamodule.class_weights()["pos_weight"], expected)


def test_class_weights_are_balanced_weights(tiny_singlelabel, tmp_path):
    _, datamodule = _datamodule(tiny_singlelabel, tmp_path)
    datamodule.records["train"] = datamodule.records["train"][:11]  # 6 calm, 5 excited
    weights = datamodule.class_weights()["class_weights"]
    np.testing.assert_allclose(weights, [11 / (2 * 6), 11 / (2 * 5)])


def test_model_is_sized_and_weighted_from_the_data(tiny_multilabel, tmp_path):
    cfg, datamodule = _datamodule(tiny_multilabel, tmp_path, "model.name=hriemo-v2")
    config = build_module(cfg, datamodule).model.config
    assert (config.text_dim, config.audio_dim) == (8, 6)  # the tiny stores' dims
    assert config.emotions == EMOTIONS and config.task == "multilabel"
    assert config.pos_weight == pytest.approx(datamodule.class_weights()["pos_weight"])
    assert config.hidden_dim == 16  # from model.params
    cfg, _ = _datamodule(tiny_multilabel, tmp_path, "train.class_weights=false")
    assert build_module(cfg, datamodule).model.config.pos_weight is None


def test_per_model_params_apply_to_the_named_model_only(tiny_multilabel, tmp_path):
    per_model = "model.per_model={hriemo-v2: {dropout: 0.05}}"
    cfg, datamodule = _datamodule(tiny_multilabel, tmp_path, "model.name=hriemo-v2", per_model)
    assert build_module(cfg, datamodule).model.config.dropout == 0.05
    cfg, _ = _datamodule(tiny_multilabel, tmp_path, "model.name=text-only", per_model)
    assert build_module(cfg, datamodule).model.config.dropout != 0.05


def test_data_decided_fields_cannot_be_set_in_model_params(tiny_multilabel, tmp_path):
    cfg, datamodule = _datamodule(tiny_multilabel, tmp_path, "model.params.text_dim=99")
    with pytest.raises(ConfigError, match="text_dim"):
        build_module(cfg, datamodule)


def test_modality_dropout_only_in_the_training_step(tiny_singlelabel, tmp_path):
    extra = ("train.modality_dropout.text=0.5", "train.modality_dropout.audio=0.5")
    cfg, datamodule = _datamodule(tiny_singlelabel, tmp_path, *extra)
    module = build_module(cfg, datamodule)
    seen = {}
    module.model.register_forward_pre_hook(
        lambda _, args, kwargs: seen.update(kwargs), with_kwargs=True
    )
    batch = next(iter(datamodule.loader("train")))
    module.model_step(batch, "val")
    assert torch.equal(seen["text_mask"], batch.text_mask)
    assert torch.equal(seen["audio_mask"], batch.audio_mask)
    module.model_step(batch, "train")
    has_text, has_audio = seen["text_mask"].any(1), seen["audio_mask"].any(1)
    assert (has_text | has_audio).all()
    assert not (has_text & has_audio).all()  # 8 items at p = 0.5: some lost one modality


def test_parameter_groups_give_the_text_encoder_its_own_rate(
    tiny_singlelabel, tmp_path, tiny_bert_dir
):
    extra = ("text_encoder.finetune=true", f"text_encoder.name={tiny_bert_dir}",
             "text_encoder.lr=0.0003", "optim.lr=0.01")  # fmt: skip
    cfg, datamodule = _datamodule(tiny_singlelabel, tmp_path, *extra)
    module = build_module(cfg, datamodule)
    groups = {g["name"]: g for g in module.parameter_groups()}
    assert groups["text_encoder"]["lr"] == pytest.approx(3e-4)
    encoder_ids = {id(p) for p in module.text_encoder.parameters()}
    assert {id(p) for p in groups["text_encoder"]["params"]} == encoder_ids
    assert not encoder_ids & {id(p) for p in groups["model"]["params"]}
    assert module.model.config.text_dim == 16  # the encoder's width, not the store's


def test_pooled_readouts_train_at_their_own_rate(tiny_singlelabel, tmp_path):
    extra = ("model.name=hriemo-v2", "optim.lr=0.002", "optim.readout_lr_scale=5")
    cfg, datamodule = _datamodule(tiny_singlelabel, tmp_path, *extra)
    module = build_module(cfg, datamodule)
    groups = {g["name"]: g for g in module.parameter_groups()}
    readouts = [*module.model.text_readout.parameters(), *module.model.audio_readout.parameters()]
    assert {id(p) for p in groups["pooled_readout"]["params"]} == {id(p) for p in readouts}
    assert groups["pooled_readout"]["lr"] == pytest.approx(0.01)
    grouped = [p for g in groups.values() for p in g["params"]]
    assert len(grouped) == len({id(p) for p in grouped}) == len(list(module.model.parameters()))


def test_finetuning_trains_saves_and_evaluates_the_encoder(
    tiny_singlelabel, tmp_path, tiny_bert_dir
):
    extra = ("text_encoder.finetune=true", f"text_encoder.name={tiny_bert_dir}",
             "text_encoder.lr=0.001", "trainer.max_epochs=2", "train.run_name=ft")  # fmt: skip
    assert main(["train", *tiny_singlelabel.overrides(tmp_path, *extra)]) == 0
    run = tmp_path / "runs" / "ft"
    tuned = load_file(str(run / "checkpoints" / "last" / "text_encoder.safetensors"))
    initial = build_text_encoder(load_config(run / "experiment.yaml").text_encoder).state_dict()
    assert tuned.keys() == initial.keys()
    assert any(not torch.equal(tuned[k], initial[k]) for k in tuned)
    assert main(["evaluate", str(run), "--split", "test", "--no-plots"]) == 0
