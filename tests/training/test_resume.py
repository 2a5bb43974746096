"""Exact resumption: 2 epochs in one go == 1 epoch, interruption, resume for the second."""

from __future__ import annotations

import json

import lightning as L
import torch
from safetensors.torch import load_file

from hri_emo.cli.main import main
from hri_emo.training.config import load_config
from hri_emo.training.train import train


class StopAfterFirstEpoch(L.Callback):
    """Simulates an interrupted run: stops at the end of epoch 0 (after last.ckpt is saved)."""

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        trainer.should_stop = True


def _final_state(run_dir):
    folder = run_dir / "checkpoints" / "last"
    metrics = json.loads((folder / "metrics.json").read_text())
    return load_file(str(folder / "model.safetensors")), metrics


def test_resume_reproduces_uninterrupted_training(tiny_singlelabel, tmp_path):
    overrides = tiny_singlelabel.overrides(
        tmp_path,
        "model.name=hriemo-v1",
        "trainer.max_epochs=2",
        "optim.warmup_fraction=0.3",  # warm-up + cosine over both epochs
        "train.modality_dropout.text=0.3",
        "train.modality_dropout.audio=0.3",
        "data.bucket_by_length=true",
    )
    cfg = load_config(None, overrides)
    full = train(cfg, run_dir=tmp_path / "full")
    part = train(cfg, run_dir=tmp_path / "part", callbacks=[StopAfterFirstEpoch()])
    weights_after_one, metrics_after_one = _final_state(part)
    assert metrics_after_one["epoch"] == 0
    assert main(["train", "--resume", str(part)]) == 0  # the CLI path: config from the run

    full_weights, full_metrics = _final_state(full)
    resumed_weights, resumed_metrics = _final_state(part)
    assert resumed_metrics["epoch"] == 1 and resumed_metrics["global_step"] == 2 * 4
    assert full_weights.keys() == resumed_weights.keys()
    for name, tensor in full_weights.items():
        assert torch.equal(tensor, resumed_weights[name]), name
    assert full_metrics["val"] == resumed_metrics["val"]
    assert any(not torch.equal(weights_after_one[k], full_weights[k]) for k in full_weights)
    assert (part / "logs" / "csv" / "version_1" / "metrics.csv").is_file()  # first part kept
