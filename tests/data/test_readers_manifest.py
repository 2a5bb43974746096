"""Manifest reader on CSV and JSONL files written here, plus read_corpus format detection."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hri_emo.data.readers import detect_format, list_formats, read_corpus
from hri_emo.errors import ConfigError, DataError


def write_wav(path: Path, seconds: float = 0.25, sr: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr)
    return path


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.fixture
def mosi_like(tmp_path) -> Path:
    """A MOSI-style CSV: id, video_id, split, text, label 0/1, audio_0..audio_2, a wav column."""
    write_wav(tmp_path / "wav" / "v1_1.wav")
    header = ["id", "video_id", "split", "text", "label", "wav", "start", "end", "speaker"]
    header += ["audio_0", "audio_1", "audio_2"]
    rows = [
        ["v1_1", "v1", "train", "GOOD FILM", 1, "wav/v1_1.wav", 0.0, 0.2, "s1", 0.1, 0.2, 0.3],
        ["v1_2", "v1", "train", "BAD END", 0, "", "", "", "s1", 1.0, 2.0, 3.0],
        ["v2_1", "v2", "test", "", 1, "", "", "", "s2", "", "", ""],
    ]
    return write_csv(tmp_path / "mosi.csv", header, rows)


def test_csv_single_label_with_label_map(mosi_like):
    corpus = read_corpus(mosi_like, label_map={"0": "negative", "1": "positive"})
    assert corpus.task == "singlelabel"
    assert corpus.emotions == ["negative", "positive"]
    assert (corpus.info["source"], corpus.info["format"]) == (str(mosi_like), "manifest")
    assert corpus.info["columns"] == {"text": "text", "wav": "wav"}  # configured, maybe absent
    first, second, third = corpus.records
    assert (first.id, first.split, first.label, first.text) == (
        "v1_1",
        "train",
        "positive",
        "GOOD FILM",
    )
    assert first.wav_path == mosi_like.parent / "wav" / "v1_1.wav" and first.wav_path.is_file()
    assert (first.start, first.end, first.speaker) == (0.0, 0.2, "s1")
    np.testing.assert_allclose(first.features["audio"], [0.1, 0.2, 0.3])
    assert first.features["audio"].dtype == np.float32
    assert first.extra == {"video_id": "v1"}
    assert second.wav_path is None and second.start is None and second.label == "negative"
    assert third.text is None and third.features == {}  # all-empty feature columns: missing
    assert corpus.label_counts() == {"positive": 2, "negative": 1}


def test_labels_without_map_are_sorted_values_and_text_can_be_lowercased(mosi_like):
    corpus = read_corpus(mosi_like, lowercase_text=True)
    assert corpus.emotions == ["0", "1"]
    assert corpus.records[0].text == "good film"


def test_jsonl_multilabel_scores_and_absolute_wav(tmp_path):
    wav = write_wav(tmp_path / "elsewhere" / "a.wav")
    rows = [
        {
            "id": "a",
            "split": "train",
            "wav": str(wav),
            "happy": 1.5,
            "sad": 0,
            "text_0": 1,
            "text_1": 2,
        },
        {"id": "b", "split": "test", "happy": 0, "sad": 2.0, "room": "lab"},
    ]
    corpus = read_corpus(write_jsonl(tmp_path / "m.jsonl", rows), emotion_columns=["happy", "sad"])
    assert corpus.task == "multilabel" and corpus.emotions == ["happy", "sad"]
    a, b = corpus.records
    assert a.labels == {"happy": 1.5, "sad": 0.0} and a.label is None
    assert a.wav_path == wav
    np.testing.assert_allclose(a.features["text"], [1.0, 2.0])
    assert b.extra == {"room": "lab"} and "text" not in b.features
    assert corpus.label_counts() == {"happy": 1, "sad": 1}


def test_ids_from_wav_stems_and_speaker_splits(tmp_path):
    """EmoDB-style: no id or split column; speakers "03" keep their leading zero."""
    rows = [[f"wav/{s}a01{e}a.wav", s, e] for s in ("03", "08", "09") for e in ("F", "W")]
    path = write_csv(tmp_path / "emo.csv", ["file", "speaker", "emotion"], rows)
    corpus = read_corpus(
        path, wav_column="file", label_column="emotion", test_speakers=["03"], valid_speakers=["08"]
    )
    assert [r.id for r in corpus.records[:2]] == ["03a01Fa", "03a01Wa"]
    assert {r.speaker: r.split for r in corpus.records} == {
        "03": "test",
        "08": "valid",
        "09": "train",
    }
    assert corpus.emotions == ["F", "W"]
    plain = read_corpus(path, wav_column="file", label_column="emotion")
    assert {r.split for r in plain.records} == {"train"}


def test_unlabelled_corpus_and_custom_feature_prefix(tmp_path):
    path = write_csv(tmp_path / "u.csv", ["id", "text", "f0", "f1"], [["x", "hi", 1, 2]])
    corpus = read_corpus(path, label_column=None, feature_prefixes={"audio": "f"})
    assert corpus.emotions == [] and corpus.records[0].label is None
    np.testing.assert_allclose(corpus.records[0].features["audio"], [1.0, 2.0])


@pytest.mark.parametrize(
    ("header", "rows", "options", "match"),
    [
        (
            ["id", "label"],
            [["a", 1], ["b", 0], ["a", 1]],
            {},
            r"'a' on line 4 already appears on line 2",
        ),
        (["id", "label"], [["a", 1], ["b", 0, 7]], {}, r"m\.csv, line 3: expected 2 fields"),
        (
            ["id", "label"],
            [["a", 2]],
            {"label_map": {"0": "n", "1": "p"}},
            r"line 2 \(utterance 'a'\): label '2' is not a key",
        ),
        (
            ["id", "emotion"],
            [["a", 1]],
            {},
            r"no label column 'label' \(header: \['id', 'emotion'\]\)",
        ),
        (["id", "label"], [["a", ""]], {}, r"line 2 \(utterance 'a'\): empty label"),
        (
            ["id", "label", "audio_0", "audio_1"],
            [["a", 1, 0.5, ""]],
            {},
            r"line 2 \(utterance 'a'\): audio feature column\(s\) \['audio_1'\] are empty",
        ),
        (
            ["id", "label", "audio_0"],
            [["a", 1, "loud"]],
            {},
            r"line 2 \(utterance 'a'\): column 'audio_0' is 'loud'",
        ),
        (
            ["id", "label", "audio_0", "audio_2"],
            [["a", 1, 1, 2]],
            {},
            r"audio_0\.\.audio_2 lack index\(es\) \[1\]",
        ),
        (["label"], [[1]], {}, r"neither an id column 'id' nor a wav column 'wav'"),
        (["id", "label"], [["", 1]], {}, r"m\.csv, line 2: empty utterance id"),
        (
            ["id", "label"],
            [["a", "x"]],
            {"emotions": ["y"]},
            r"label 'x' is not one of emotions \['y'\]",
        ),
    ],
)
def test_malformed_manifests_name_file_and_line(tmp_path, header, rows, options, match):
    path = write_csv(tmp_path / "m.csv", header, rows)
    with pytest.raises(DataError, match=match):
        read_corpus(path, **options)


def test_bad_jsonl_line_is_reported(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"id": "a", "label": "x"}\n{"id": "b", label}\n')
    with pytest.raises(DataError, match=r"m\.jsonl, line 2: not valid JSON"):
        read_corpus(path)


def test_unknown_option_lists_the_accepted_ones(mosi_like):
    with pytest.raises(ConfigError, match=r"no option\(s\) \['label_colum'\].*'label_column'"):
        read_corpus(mosi_like, label_colum="label")


def test_format_detection_and_errors(tmp_path, mosi_like):
    assert sorted(list_formats()) == ["iemocap", "manifest", "meld", "mosei_csd", "mult_pickle"]
    assert detect_format(mosi_like) == "manifest"
    odd = tmp_path / "corpus.txt"
    odd.write_text("id,label\n")
    with pytest.raises(
        DataError, match=r"cannot tell the corpus format of .*corpus\.txt.*manifest"
    ):
        read_corpus(odd)
    with pytest.raises(DataError, match="does not exist"):
        read_corpus(tmp_path / "nope.csv")
    with pytest.raises(ConfigError, match="unknown corpus format 'parquet'"):
        read_corpus(mosi_like, format="parquet")


def test_explicit_format_reads_any_suffix(tmp_path):
    path = write_csv(tmp_path / "list.txt", ["id", "label"], [["a", "x"], ["b", "y"]])
    corpus = read_corpus(path, format="manifest")
    assert [r.label for r in corpus.records] == ["x", "y"]
