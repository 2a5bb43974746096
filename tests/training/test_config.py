"""Experiment config: YAML files, dotted overrides, unknown keys, saving."""

from __future__ import annotations

from pathlib import Path

import pytest

from hri_emo.errors import ConfigError
from hri_emo.training.config import ExperimentConfig, load_config, save_config

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_yaml_then_overrides(tmp_path):
    path = _write(
        tmp_path / "run.yaml",
        "data:\n  corpus: corpus.csv\n  batch_size: 8\nmodel:\n  name: text-only\n"
        "optim:\n  lr: 0.01\n",
    )
    cfg = load_config(path, ["model.name=hriemo-v1", "model.params.hidden_dim=32", "optim.lr=3e-4"])
    assert isinstance(cfg, ExperimentConfig)
    assert cfg.data.batch_size == 8
    assert cfg.model.name == "hriemo-v1"
    assert cfg.model.params == {"hidden_dim": 32}
    assert cfg.optim.lr == pytest.approx(3e-4)
    assert cfg.trainer.max_epochs == ExperimentConfig().trainer.max_epochs


def test_later_files_override_earlier(tmp_path):
    base = _write(tmp_path / "base.yaml", "data:\n  corpus: a.csv\n  batch_size: 8\n")
    extra = _write(tmp_path / "extra.yaml", "data:\n  batch_size: 4\n")
    cfg = load_config([base, extra])
    assert (cfg.data.corpus, cfg.data.batch_size) == ("a.csv", 4)


def test_unknown_key_in_file_names_the_key(tmp_path):
    path = _write(tmp_path / "bad.yaml", "data:\n  corpus: a.csv\n  batchsize: 8\n")
    with pytest.raises(ConfigError, match=r"data\.batchsize"):
        load_config(path)


def test_unknown_override_names_the_key():
    with pytest.raises(ConfigError, match=r"trainer\.max_epoch"):
        load_config(None, ["data.corpus=a.csv", "trainer.max_epoch=3"])


def test_wrong_type_names_the_key():
    with pytest.raises(ConfigError, match=r"trainer\.max_epochs"):
        load_config(None, ["data.corpus=a.csv", "trainer.max_epochs=many"])


def test_bad_choice_and_missing_corpus():
    with pytest.raises(ConfigError, match=r"train\.threshold_criterion"):
        load_config(None, ["data.corpus=a.csv", "train.threshold_criterion=accuracy"])
    with pytest.raises(ConfigError, match="corpus"):
        load_config(None, [])
    with pytest.raises(ConfigError, match=r"modality_dropout\.text"):
        load_config(None, ["data.corpus=a.csv", "train.modality_dropout.text=1.5"])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.batch_size=0", "data.batch_size must be >= 1, got 0"),
        ("data.eval_batch_size=-2", "data.eval_batch_size must be >= 1, got -2"),
        ("trainer.max_epochs=0", "trainer.max_epochs must be >= 1, got 0"),
        ("optim.lr=0", "optim.lr must be > 0.0, got 0.0"),
    ],
)
def test_range_errors_name_the_full_key(override, message):
    with pytest.raises(ConfigError) as caught:
        load_config(None, ["data.corpus=a.csv", override])
    assert str(caught.value) == message and caught.value.key == override.split("=")[0]


def test_saved_config_round_trips(tmp_path):
    cfg = load_config(
        None, ["data.corpus=a.csv", "data.standardize=[audio]", "model.params.dropout=0.3"]
    )
    save_config(cfg, tmp_path / "config.yaml")
    assert load_config(tmp_path / "config.yaml") == cfg


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_load(path):
    cfg = load_config(path, ["data.corpus=placeholder"])
    assert cfg.model.name
