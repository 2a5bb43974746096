"""`train.weight_averaging`: the exponential moving average of the weights is what validation
scores and what the checkpoints hold (real Lightning training on the tiny corpus)."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from hri_emo.cli.main import main
from hri_emo.errors import ConfigError
from hri_emo.training.config import ExperimentConfig, validate_config


def _train(corpus, tmp_path, name, *extra):
    overrides = corpus.overrides(tmp_path, "trainer.max_epochs=1", f"train.run_name={name}", *extra)
    assert main(["train", *overrides]) == 0
    return tmp_path / "runs" / name


def test_the_checkpoints_hold_the_validated_average(tiny_singlelabel, tmp_path):
    raw_run = _train(tiny_singlelabel, tmp_path, "raw")
    run = _train(tiny_singlelabel, tmp_path, "averaged", "train.weight_averaging=0.9")
    raw = load_file(raw_run / "checkpoints" / "best" / "model.safetensors")
    saved = load_file(run / "checkpoints" / "best" / "model.safetensors")
    assert any(not torch.equal(saved[k], raw[k]) for k in saved), "same seed: only the average"
    lightning = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    for key in saved:  # Lightning's own copy of the average
        assert torch.equal(saved[key], lightning[f"model.{key}"]), key
    # evaluating the exported weights gives the validation score training logged for them
    logged = json.loads((run / "checkpoints" / "best" / "metrics.json").read_text())["val"]
    assert main(["evaluate", str(run), "--split", "val", "--no-plots"]) == 0
    report = json.loads((run / "eval" / "best-val" / "metrics.json").read_text())
    assert report["metrics"]["loss"] == pytest.approx(logged["val/loss"], rel=1e-4)


@pytest.mark.parametrize("decay", [-0.1, 1.0])
def test_a_decay_outside_0_1_is_refused(decay):
    cfg = ExperimentConfig()
    cfg.train.weight_averaging = decay
    with pytest.raises(ConfigError, match=r"train\.weight_averaging"):
        validate_config(cfg)
