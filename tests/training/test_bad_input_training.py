"""Bad input to `hri-emo train` / `evaluate` through the real CLI (issue 13): labels training
never saw, failed and killed runs, range errors in model.params, non-UTF-8 manifests."""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hri_emo.cli.main import main

UNSEEN = "split 'test' has 2 utterance(s) labelled 'anger' (first: 'test_000') but 'train' has none"


def _relabelled(manifest: Path, folder: Path, ids: tuple[str, ...], label: str) -> Path:
    """A copy of the tiny manifest where `ids` carry `label` (the stores stay the same)."""
    with manifest.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["id"] in ids:
            row["label"] = label
    path = folder / "relabelled.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def unseen_manifest(tiny_singlelabel, tmp_path) -> Path:
    return _relabelled(tiny_singlelabel.manifest, tmp_path, ("test_000", "test_005"), "anger")


def test_label_only_in_test_is_refused_like_validate(
    tiny_singlelabel, unseen_manifest, tmp_path, capsys
):
    argv = tiny_singlelabel.overrides(tmp_path, "train.run_name=refused")
    argv = ["train", *argv, f"data.corpus={unseen_manifest}"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert UNSEEN in err and "data.allow_unseen_labels=true" in err
    assert main(["data", "validate", str(unseen_manifest), "--no-files"]) == 1
    assert UNSEEN in capsys.readouterr().out  # the same message as `data validate`
    # the failed run is marked as such, and evaluate says what happened
    run_dir = tmp_path / "runs" / "refused"
    status = json.loads((run_dir / "run_status.json").read_text())
    assert status["state"] == "failed" and UNSEEN in status["error"]
    assert "DataError" in (run_dir / "error.txt").read_text()
    assert main(["evaluate", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert f"run {run_dir} failed during training" in err and UNSEEN in err


def test_unseen_labels_allowed_train_and_are_reported_apart(
    tiny_singlelabel, unseen_manifest, tmp_path, capsys, caplog
):
    argv = tiny_singlelabel.overrides(tmp_path, "train.run_name=allowed", "trainer.max_epochs=1")
    argv = ["train", *argv, f"data.corpus={unseen_manifest}", "data.allow_unseen_labels=true"]
    assert main(argv) == 0
    assert UNSEEN in caplog.text
    run_dir = tmp_path / "runs" / "allowed"
    assert json.loads((run_dir / "run_status.json").read_text())["state"] == "finished"
    labels = json.loads((run_dir / "checkpoints" / "best" / "labels.json").read_text())
    assert labels["unseen_in_training"] == ["anger"]
    assert main(["evaluate", str(run_dir), "--no-plots"]) == 0
    assert "Classes never seen in training" in capsys.readouterr().out
    report = json.loads((run_dir / "eval" / "best-test" / "metrics.json").read_text())
    assert report["unseen_in_training"] == {"anger": 2}
    seen = [report["metrics"][f"f1/{c}"] for c in ("calm", "excited")]
    assert report["metrics"]["macro_f1_seen_classes"] == pytest.approx(sum(seen) / 2)


def test_killed_run_is_reported_by_evaluate(tiny_singlelabel, tmp_path, capsys):
    """A real `hri-emo train` process killed with SIGKILL before its first checkpoint."""
    argv = tiny_singlelabel.overrides(tmp_path, "train.run_name=killed", "trainer.max_epochs=50")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    process = subprocess.Popen(
        [sys.executable, "-m", "hri_emo.cli.main", "train", *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    run_dir = tmp_path / "runs" / "killed"
    deadline = time.monotonic() + 120
    while not (run_dir / "run_status.json").exists() and time.monotonic() < deadline:
        assert process.poll() is None, "train ended before it could be killed"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (run_dir / "checkpoints" / "best").exists()
    assert main(["evaluate", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert f"(pid {process.pid} on {socket.gethostname()}) was killed (or crashed)" in err


@pytest.mark.parametrize("key", ["num_fusion_layers", "num_heads"])
def test_model_params_range_error_names_the_full_key(tiny_singlelabel, tmp_path, capsys, key):
    argv = tiny_singlelabel.overrides(tmp_path, f"model.params.{key}=0")
    assert main(["train", *argv]) == 2
    err = capsys.readouterr().err
    assert f"error: model.params.{key}: invalid model config 'hriemo-v2': {key} must be" in err


def test_latin1_manifest_in_train_names_file_and_line(tiny_singlelabel, tmp_path, capsys):
    text = tiny_singlelabel.manifest.read_text().replace("robot", "robôt", 1)
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "robôt" in x)
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(text.encode("latin-1"))
    argv = tiny_singlelabel.overrides(tmp_path, f"data.corpus={latin1}")
    assert main(["train", *argv]) == 2
    assert f"{latin1}, line {line}: byte(s) b'\\xf4'" in capsys.readouterr().err


def test_a_run_still_training_is_told_apart(tmp_path, capsys):
    """This process marks a run as running (as `train` does first): evaluate says to wait."""
    from hri_emo.checkpoint.run_status import mark_running

    run_dir = tmp_path / "busy"
    run_dir.mkdir()
    (run_dir / "experiment.yaml").write_text("name: busy\n")
    mark_running(run_dir)
    assert main(["evaluate", str(run_dir)]) == 2
    assert "is still running and has not written a checkpoint yet" in capsys.readouterr().err
