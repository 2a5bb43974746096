"""`hri-emo extract` end to end on a tiny manifest written in the real manifest format."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from hri_emo.cli.extract import parse_options
from hri_emo.cli.main import main
from hri_emo.data.store.feature_store import FeatureStore
from hri_emo.errors import ConfigError


@pytest.fixture
def manifest(tmp_path, voice, write_wav):
    """manifest.csv (id, split, text, wav, label) with relative wav paths; u2's wav is silent."""
    (tmp_path / "wav").mkdir()
    write_wav(tmp_path / "wav" / "u0.wav", voice(1.0, seed=0), sr=22050)
    write_wav(tmp_path / "wav" / "u1.wav", voice(1.5, seed=1))
    write_wav(tmp_path / "wav" / "u2.wav", np.zeros(4000, dtype=np.float32))
    rows = [
        ("u0", "train", "i am so happy today", "wav/u0.wav", "happy"),
        ("u1", "test", "the robot is here", "wav/u1.wav", "sad"),
        ("u2", "test", "", "wav/u2.wav", "sad"),
    ]
    path = tmp_path / "manifest.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "split", "text", "wav", "label"])
        writer.writerows(rows)
    return path


def test_extract_audio_with_skip_report_and_resume(manifest, tmp_path, capsys):
    store_path = tmp_path / "features" / "audio_logmel.h5"
    argv = ["extract", str(manifest), "--modality", "audio", "--encoder", "logmel",
            "--out", str(store_path), "--on-error", "skip", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    assert "2 written" in capsys.readouterr().out
    with FeatureStore.open(store_path) as store:
        assert sorted(store.ids()) == ["u0", "u1"]
        assert store.read("u1").features.shape == (148, 80)
    report = json.loads((tmp_path / "features" / "audio_logmel.h5.skipped.json").read_text())
    assert [f["id"] for f in report["failed"]] == ["u2"] and "silent" in report["failed"][0][
        "reason"
    ]
    assert main(argv) == 0  # resume: nothing left to do but the bad one
    assert "0 written, 2 already in the store" in capsys.readouterr().out


def test_extract_fails_naming_the_utterance(manifest, tmp_path, capsys):
    argv = ["extract", str(manifest), "--modality", "audio", "--encoder", "logmel",
            "--out", str(tmp_path / "a.h5"), "--no-progress"]  # fmt: skip
    assert main(argv) == 2
    assert "utterance 'u2'" in capsys.readouterr().err


def test_extract_text_pooled_with_limit(manifest, tiny_bert_dir, tmp_path, capsys):
    store_path = tmp_path / "text.h5"
    argv = ["extract", str(manifest), "--format", "manifest", "--option", "label_column=label",
            "--modality", "text", "--encoder", str(tiny_bert_dir), "--pooling", "mean",
            "--out", str(store_path), "--limit", "2", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    with FeatureStore.open(store_path) as store:
        assert store.ids() == ["u0", "u1"]
        assert store.metadata.level == "pooled" and store.read("u0").features.shape == (16,)


def test_option_values_are_parsed_as_json_when_possible():
    assert parse_options(["a=1", "b=true", "c=hello", 'd=["03","08"]', "e="]) == {
        "a": 1, "b": True, "c": "hello", "d": ["03", "08"], "e": "",
    }  # fmt: skip
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_options(["novalue"])
