"""Bad corpus input through the real `hri-emo data` / `extract` commands: each error names the
file, line or utterance and hints at the fix (issue 13)."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import soundfile as sf

from hri_emo.cli.main import main
from hri_emo.data.readers import read_corpus
from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore
from hri_emo.data.store.layout import escape_id

LATIN1_CSV = "id,split,text,label\nu1,train,hi,happy\nu2,train,café au lait,sad\nu3,test,ok,sad\n"
LATIN1_JSONL = (
    '{"id": "u1", "text": "ok", "label": "a"}\n{"id": "u2", "text": "café", "label": "b"}\n'
)


@pytest.mark.parametrize(
    ("name", "content", "line"), [("m.csv", LATIN1_CSV, 3), ("m.jsonl", LATIN1_JSONL, 2)]
)
@pytest.mark.parametrize("command", ["inspect", "validate", "extract"])
def test_non_utf8_manifest_names_file_and_line(tmp_path, capsys, name, content, line, command):
    path = tmp_path / name
    path.write_bytes(content.encode("latin-1"))
    argv = ["data", command, str(path)] if command != "extract" else [
        "extract", str(path), "--modality", "text", "--out", str(tmp_path / "t.h5")
    ]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{path}, line {line}:" in err and "b'\\xe9'" in err
    assert "encoding=latin-1" in err and "Traceback" not in err
    assert not (tmp_path / "t.h5").exists()


def test_encoding_option_reads_a_latin1_manifest(tmp_path, capsys):
    path = tmp_path / "m.csv"
    path.write_bytes(LATIN1_CSV.encode("latin-1"))
    corpus = read_corpus(path, encoding="latin-1")
    assert [r.text for r in corpus.records] == ["hi", "café au lait", "ok"]
    assert main(["data", "validate", str(path), "--option", "encoding=latin-1"]) == 0
    assert main(["data", "inspect", str(path), "--option", "encoding=no-such-codec"]) == 2
    assert "encoding='no-such-codec' is not a known text encoding" in capsys.readouterr().err


@pytest.fixture
def wav_manifest(tmp_path):
    """manifest.csv with one good wav, one corrupt (not audio), one 0-byte, one 0-sample wav."""
    (tmp_path / "wav").mkdir()
    t = np.arange(8000) / 16000
    sf.write(tmp_path / "wav" / "good.wav", 0.3 * np.sin(2 * np.pi * 220 * t), 16000)
    (tmp_path / "wav" / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk" * 4)
    (tmp_path / "wav" / "zero.wav").write_bytes(b"")
    sf.write(tmp_path / "wav" / "nosamples.wav", np.zeros(0), 16000)
    splits = {"good": "train", "corrupt": "train", "zero": "test", "nosamples": "test"}
    rows = [f"{n},{s},wav/{n}.wav,calm" for n, s in splits.items()]
    path = tmp_path / "manifest.csv"
    path.write_text("id,split,wav,label\n" + "\n".join(rows) + "\n")
    return path


BAD_WAVS = {"corrupt": "corrupt or not an audio file", "zero": "empty (0 bytes)",
            "nosamples": "empty: 0 samples"}  # fmt: skip


def test_validate_lists_unreadable_wavs_and_fails(wav_manifest, capsys):
    assert main(["data", "validate", str(wav_manifest)]) == 1
    out = capsys.readouterr().out
    for utt, reason in BAD_WAVS.items():
        line = next(x for x in out.splitlines() if f"utterance {utt!r}" in x)
        assert str(wav_manifest.parent / "wav" / f"{utt}.wav") in line and reason in line
    assert "'good'" not in out and "3 problem(s)" in out


def test_inspect_names_unreadable_wavs(wav_manifest, capsys):
    assert main(["data", "inspect", str(wav_manifest)]) == 0
    out = capsys.readouterr().out
    assert "unreadable 3" in out
    for utt, reason in BAD_WAVS.items():
        assert any(f"{utt!r}" in x and reason in x for x in out.splitlines())


def test_inspect_and_validate_summarise_a_feature_store(tmp_path, capsys):
    meta = FeatureMetadata(
        encoder="toy-audio", revision="7", modality="audio", level="sequence", dim=4, layer="3",
        extra={"pooling": "none"},
    )  # fmt: skip
    path = tmp_path / "audio.h5"
    with FeatureStore.create(path, meta) as store:
        for i, length in enumerate((2, 5, 8)):
            store.write(f"u{i}", np.ones((length, 4), np.float32), tokens=["w"] * length)
    assert main(["data", "inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "cannot tell the corpus format" not in out
    for expected in ("encoder      toy-audio (revision 7), layer 3", "audio sequence, dim 4",
                     "utterances   3 (3 with tokens", "min 2, mean 5.0, median 5, max 8",
                     "'pooling': 'none'", "bad items    0"):  # fmt: skip
        assert expected in out
    assert main(["data", "validate", str(path)]) == 0
    capsys.readouterr()
    with h5py.File(path, "a") as file:  # damage two utterances behind the store's back
        file["utterances"][escape_id("u1")]["features"][0, 0] = np.nan
        del file["utterances"][escape_id("u2")]["features"]
    assert main(["data", "inspect", str(path), "--json"]) == 0
    bad = {b["id"]: b["reason"] for b in json.loads(capsys.readouterr().out)["bad_items"]}
    assert bad["u1"] == "1 NaN/Inf value(s) of 20" and "cannot be read" in bad["u2"]
    assert main(["data", "validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}: utterance 'u1': 1 NaN/Inf" in out and "2 problem(s)" in out
