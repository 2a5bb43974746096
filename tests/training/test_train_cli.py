"""`hri-emo train` then `hri-emo evaluate` on a tiny corpus (real manifest, stores, Lightning)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import yaml

from hri_emo.cli.main import main
from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore
from hri_emo.training.metrics import compute_metrics

CHECKPOINT_FILES = {"model.safetensors", "config.json", "experiment.yaml", "labels.json",
                    "features.json", "thresholds.json", "metrics.json"}  # fmt: skip
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _epoch_losses(run_dir) -> list[float]:
    with (run_dir / "logs" / "csv" / "version_0" / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    return [float(r["train/loss_epoch"]) for r in rows if r.get("train/loss_epoch")]


@pytest.fixture(scope="module")
def single_run(tiny_singlelabel, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("single")
    extra = ("trainer.max_epochs=6", "train.run_name=single", "train.modality_dropout.audio=0.2")
    assert main(["train", *tiny_singlelabel.overrides(tmp_path, *extra)]) == 0
    return tmp_path / "runs" / "single"


def test_train_writes_checkpoints_logs_and_config(single_run):
    for which in ("best", "last"):
        folder = single_run / "checkpoints" / which
        assert {p.name for p in folder.iterdir()} >= CHECKPOINT_FILES
        labels = json.loads((folder / "labels.json").read_text())
        assert labels == {"task": "singlelabel", "emotions": ["calm", "excited"]}
        assert json.loads((folder / "features.json").read_text())["text"]["encoder"] == "toy-text"
    assert (single_run / "checkpoints" / "last.ckpt").is_file()
    saved = yaml.safe_load((single_run / "experiment.yaml").read_text())
    assert saved["trainer"]["max_epochs"] == 6
    assert saved["train"]["modality_dropout"]["audio"] == 0.2
    assert saved["model"]["params"]["hidden_dim"] == 16


def test_training_loss_falls(single_run):
    losses = _epoch_losses(single_run)
    assert len(losses) == 6
    assert losses[-1] < 0.8 * losses[0]


def test_evaluate_writes_metrics_table_and_confusion_matrix(single_run, capsys):
    assert main(["evaluate", str(single_run), "--split", "test"]) == 0
    out_dir = single_run / "eval" / "best-test"
    assert "| accuracy |" in capsys.readouterr().out
    report = json.loads((out_dir / "metrics.json").read_text())
    assert report["items"] == 16 and report["split"] == "test"
    assert (out_dir / "confusion_matrix.png").read_bytes()[:8] == PNG_MAGIC
    assert np.array(report["confusion_matrix"]).sum() == 16
    with (out_dir / "predictions.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    accuracy = np.mean([r["target"] == r["predicted"] for r in rows])
    assert report["metrics"]["accuracy"] == pytest.approx(accuracy)
    assert report["metrics"]["accuracy"] > 0.6  # the classes are separable


def test_evaluate_refuses_other_features(single_run, tmp_path, capsys):
    other = FeatureMetadata(encoder="other-text", revision="1", modality="text",
                            level="sequence", dim=8)  # fmt: skip
    with FeatureStore.create(tmp_path / "other.h5", other) as store:
        store.write("test_000", np.zeros((2, 8), dtype=np.float32))
    code = main(["evaluate", str(single_run), f"data.text_features={tmp_path / 'other.h5'}"])
    assert code == 2
    assert "other-text" in capsys.readouterr().err


def test_multilabel_thresholds_are_tuned_stored_and_applied(tiny_multilabel, tmp_path):
    extra = ("train.run_name=multi", "train.threshold_criterion=f1", "trainer.max_epochs=4")
    assert main(["train", *tiny_multilabel.overrides(tmp_path, *extra)]) == 0
    run = tmp_path / "runs" / "multi"
    stored = json.loads((run / "checkpoints" / "best" / "thresholds.json").read_text())
    assert stored["criterion"] == "f1" and len(stored["thresholds"]) == 3
    assert stored["thresholds"] != [0.5, 0.5, 0.5]
    assert main(["evaluate", str(run), "--split", "test"]) == 0
    out_dir = run / "eval" / "best-test"
    assert (out_dir / "pr_curves.png").read_bytes()[:8] == PNG_MAGIC
    report = json.loads((out_dir / "metrics.json").read_text())
    with (out_dir / "predictions.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    emotions = ["happy", "sad", "anger"]
    targets = np.array([[float(e in r["target"].split(";")) for e in emotions] for r in rows])
    probs = np.array([[float(r[f"p_{e}"]) for e in emotions] for r in rows])
    expected = compute_metrics("multilabel", targets, probs, emotions, stored["thresholds"])
    assert report["metrics"]["macro_f1"] == pytest.approx(expected["macro_f1"], abs=1e-5)
    assert report["thresholds"] == stored["thresholds"]


def test_all_layer_features_give_the_model_a_layer_mix(tiny_singlelabel, tmp_path):
    """A `layer="all"` text store (2 layers of 4 dims stacked) -> text_layers=2 in the model."""
    stacked = tmp_path / "text_all_layers.h5"
    with FeatureStore.open(tiny_singlelabel.text_store) as source:
        dim = source.metadata.dim
        layers = {"num_layers": 2, "layer_dim": dim // 2}
        meta = FeatureMetadata(encoder="toy-text", revision="1", modality="text",
                               level="sequence", dim=dim, layer="all", extra=layers)  # fmt: skip
        with FeatureStore.create(stacked, meta) as target:
            for utt_id in source.ids():
                stored = source.read(utt_id)
                target.write(utt_id, stored.features, tokens=stored.tokens)
    overrides = tiny_singlelabel.overrides(tmp_path, "trainer.max_epochs=1", "train.run_name=all")
    overrides.append(f"data.text_features={stacked}")
    assert main(["train", *overrides]) == 0
    config = json.loads(
        (tmp_path / "runs" / "all" / "checkpoints" / "best" / "config.json").read_text()
    )
    assert (config["text_layers"], config["audio_layers"]) == (2, 1)
