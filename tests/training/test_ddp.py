"""Distributed training: 2 CPU processes (Lightning DDP, gloo) train like 1 process with the same
global batch, through the real `hri-emo train` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Dropout off, and one global batch per epoch (the 32 training utterances: 32 on one process,
# 16 per rank on two), so every step sees the same items whatever order Lightning's
# DistributedSampler (which always shuffles training data) deals them in.
DETERMINISTIC = [
    "model.name=hriemo-v1",
    "model.params.dropout=0.0",
    "model.params.attention_dropout=0.0",
    "model.params.input_dropout=0.0",
    "trainer.max_epochs=4",
]
TOLERANCE = 1e-4  # float summation order differs between one and two processes


def _train(overrides: list[str], tmp_path, name: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "hri_emo.cli.main",
        "train",
        *overrides,
        f"train.run_name={name}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    last = tmp_path / "runs" / name / "checkpoints" / "last" / "metrics.json"
    return json.loads(last.read_text())


def test_two_process_ddp_matches_one_process(tiny_singlelabel, tmp_path):
    base = tiny_singlelabel.overrides(tmp_path, *DETERMINISTIC)
    single = _train([*base, "data.batch_size=32"], tmp_path, "single")
    ddp = _train(
        [*base, "data.batch_size=16", "trainer.strategy=ddp", "trainer.devices=2"], tmp_path, "ddp"
    )
    assert ddp["global_step"] == single["global_step"] == 4
    assert ddp["val"].keys() == single["val"].keys()
    for key, value in single["val"].items():
        assert ddp["val"][key] == pytest.approx(value, abs=TOLERANCE), key
    tuned_single, tuned_ddp = single["val_with_thresholds"], ddp["val_with_thresholds"]
    assert tuned_ddp["loss"] == pytest.approx(tuned_single["loss"], abs=TOLERANCE)
    assert tuned_ddp["accuracy"] == tuned_single["accuracy"]
