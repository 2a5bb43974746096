"""Corpus summary (counts, lengths, durations, dims, missing modalities) and `hri-emo data`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hri_emo.cli.main import main
from hri_emo.data.corpus_summary import summarize_corpus
from hri_emo.data.readers import read_corpus


@pytest.fixture
def manifest(tmp_path) -> Path:
    """4 utterances: 2 wavs (1.0 s file, and 2.0 s file cut to 0.5 s), one without audio or text."""
    for name, seconds in (("long.wav", 2.0), ("short.wav", 1.0)):
        sf.write(tmp_path / name, np.zeros(int(16000 * seconds), dtype=np.float32), 16000)
    rows = [
        ["u1", "train", "hello there robot", "short.wav", "", "", "s1", "happy", 1, 2],
        ["u2", "train", "go away", "long.wav", 0.5, 1.0, "s2", "angry", 3, 4],
        ["u3", "test", "", "", "", "", "s1", "happy", "", ""],
        ["u4", "test", "fine", "", "", "", "s3", "angry", 5, 6],
    ]
    path = tmp_path / "robot.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["id", "split", "text", "wav", "start", "end", "speaker", "label", "audio_0", "audio_1"]
        )
        writer.writerows(rows)
    return path


def test_summary_counts_lengths_durations_and_missing(manifest):
    summary = summarize_corpus(read_corpus(manifest))
    assert summary.utterances == 4 and summary.speakers == 3
    assert summary.split_counts == {"test": 2, "train": 2}
    assert summary.label_counts == {
        "test": {"angry": 1, "happy": 1},
        "train": {"angry": 1, "happy": 1},
    }
    assert summary.text_words == {"count": 3, "min": 1.0, "mean": 2.0, "median": 2.0, "max": 3.0}
    assert summary.audio_seconds["count"] == 2
    assert summary.audio_seconds["min"] == pytest.approx(0.5) and summary.audio_seconds[
        "max"
    ] == pytest.approx(1.0)
    assert summary.audio_files == {"with_wav": 2}
    assert summary.feature_dims == {"audio": {2: 3}}
    assert summary.missing == {"text": 1, "audio": 1}  # u3: no transcript, no wav, no features
    text = summary.format()
    assert "train            2   angry 1, happy 1" in text
    assert "features     audio: dim 2: 3" in text


def test_summary_without_audio_and_with_unreadable_file(manifest):
    (manifest.parent / "short.wav").write_bytes(b"not a wav")
    (manifest.parent / "long.wav").unlink()
    summary = summarize_corpus(read_corpus(manifest))
    assert summary.audio_seconds is None
    assert summary.audio_files == {"with_wav": 2, "unreadable": 1, "missing": 1}
    assert summarize_corpus(read_corpus(manifest), audio_stats=False).audio_files == {}


def test_cli_inspect_prints_json_and_text(manifest, capsys):
    assert main(["data", "inspect", str(manifest), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["split_counts"] == {"test": 2, "train": 2}
    assert data["feature_dims"] == {"audio": {"2": 3}}
    assert data["info"]["format"] == "manifest"
    assert (
        main(["data", "inspect", str(manifest), "--option", "lowercase_text=true", "--no-audio"])
        == 0
    )
    assert "corpus robot (manifest:" in capsys.readouterr().out


def test_cli_validate_exit_codes(manifest, capsys):
    assert main(["data", "validate", str(manifest)]) == 0
    (manifest.parent / "long.wav").unlink()
    assert main(["data", "validate", str(manifest)]) == 1
    out = capsys.readouterr().out
    assert "utterance 'u2' (train): wav file" in out and "1 problem(s)" in out
    assert main(["data", "validate", str(manifest), "--no-files"]) == 0


def test_cli_reports_reader_errors(tmp_path, capsys):
    assert main(["data", "inspect", str(tmp_path / "missing.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
