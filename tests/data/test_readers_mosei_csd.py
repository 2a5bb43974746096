"""CMU-MOSEI reader on .csd files written here exactly as the SDK's write_CSD lays them out."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from hri_emo.data.readers import detect_format, read_corpus
from hri_emo.data.readers.csd import ComputationalSequence, overlapping
from hri_emo.data.readers.mosei_csd import load_folds
from hri_emo.errors import DataError

TRAIN_VIDEO, TEST_VIDEO, VALID_VIDEO = "hh04W3xXa5s", "7l3BNtSE0xc", "188343"  # SDK folds
METADATA_KEYS = [
    "root name",
    "computational sequence description",
    "computational sequence version",
    "alignment compatible",
    "dataset name",
    "dataset version",
    "creator",
    "contact",
    "featureset bib citation",
    "dataset bib citation",
]


def write_csd(path: Path, root: str, data: dict[str, tuple[list, np.ndarray]]) -> Path:
    """The SDK's write_CSD: /<root>/data/<id>/{features,intervals} (gzip), /<root>/metadata/<key>
    as (1,) vlen str datasets holding json.dumps(value)."""
    with h5py.File(path, "w") as handle:
        group = handle.create_group(root)
        entries = group.create_group("data")
        for key, (intervals, features) in data.items():
            entry = entries.create_group(key)
            entry.create_dataset("features", data=features, compression="gzip", compression_opts=9)
            entry.create_dataset(
                "intervals", data=np.asarray(intervals, dtype=np.float64), compression="gzip"
            )
        metadata = group.create_group("metadata")
        for key in METADATA_KEYS:
            metadata.create_dataset(key, (1,), dtype=h5py.special_dtype(vlen=str))
            metadata[key][0] = json.dumps(root if key == "root name" else f"test {key}")
    return path


def words(entries: list[tuple[str, float, float]]) -> tuple[list, np.ndarray]:
    """A word-sequence entry: (n, 1) byte strings, as in CMU_MOSEI_TimestampedWords.csd."""
    return [[s, e] for _, s, e in entries], np.array([[w.encode()] for w, _, _ in entries])


@pytest.fixture
def mosei(tmp_path) -> Path:
    folder = tmp_path / "cmumosei"
    folder.mkdir()
    labels = {
        TRAIN_VIDEO: (
            [[0.0, 2.0], [2.5, 4.0], [5.0, 5.0]],  # the last segment has zero length
            np.array([[1.5, 2.0, 0, 0, 0.33, 0, 0], [-1, 0, 1.5, 0, 0, 0, 0], [0] * 7], float),
        ),
        TEST_VIDEO: ([[1.0, 3.0]], np.array([[0, 0, 0, 3.0, 0, 0, 0]], float)),
        "notInAnyFold": ([[0.0, 1.0]], np.zeros((1, 7))),
    }
    write_csd(folder / "CMU_MOSEI_Labels.csd", "All Labels", labels)
    timed_words = {
        TRAIN_VIDEO: words(
            [("sp", 0, 0.5), ("i", 0.5, 0.9), ("love", 0.9, 1.5), ("it", 1.5, 2.2),
             ("sp", 2.2, 2.6), ("so", 2.6, 3.0), ("sad", 3.0, 3.9)]
        ),
        TEST_VIDEO: words([("what", 1.0, 1.4), ("now", 1.4, 2.0)]),
    }  # fmt: skip
    write_csd(folder / "CMU_MOSEI_TimestampedWords.csd", "words", timed_words)
    phones = {TRAIN_VIDEO: words([("AY1", 0.5, 0.9)])}
    write_csd(folder / "CMU_MOSEI_TimestampedPhones.csd", "phones", phones)
    frames = [[k * 0.5, (k + 1) * 0.5] for k in range(8)]  # 0.5 s frames over 0..4 s
    covarep = {TRAIN_VIDEO: (frames, np.arange(24, dtype=np.float32).reshape(8, 3))}
    write_csd(folder / "CMU_MOSEI_COVAREP.csd", "COVAREP", covarep)
    return folder


def test_segments_labels_words_and_features(mosei):
    assert detect_format(mosei) == "mosei_csd"
    corpus = read_corpus(mosei, features={"audio": "COVAREP"})
    assert corpus.task == "multilabel"
    assert corpus.emotions == ["happy", "sad", "anger", "surprise", "disgust", "fear"]
    by_id = {r.id: r for r in corpus.records}
    assert list(by_id) == [f"{TEST_VIDEO}[0]", f"{TRAIN_VIDEO}[0]", f"{TRAIN_VIDEO}[1]"]
    first, second, test = (
        by_id[f"{TRAIN_VIDEO}[0]"],
        by_id[f"{TRAIN_VIDEO}[1]"],
        by_id[f"{TEST_VIDEO}[0]"],
    )
    assert (first.split, second.split, test.split) == ("train", "train", "test")
    assert first.labels == {
        "sentiment": 1.5, "happy": 2.0, "sad": 0.0, "anger": 0.0,
        "surprise": 0.33, "disgust": 0.0, "fear": 0.0,
    }  # fmt: skip
    assert corpus.label_counts() == {"happy": 1, "surprise": 1, "sad": 1, "anger": 1}
    # words overlapping the segment, clipped to it, "sp" dropped, times from the segment start
    assert [(w.word, w.start, w.end) for w in first.words] == [
        ("i", 0.5, 0.9), ("love", 0.9, 1.5), ("it", 1.5, 2.0)
    ]  # fmt: skip
    assert first.text == "i love it"
    assert [(w.word, round(w.start, 6), round(w.end, 6)) for w in second.words] == [
        ("so", 0.1, 0.5), ("sad", 0.5, 1.4)
    ]  # fmt: skip
    # frames overlapping [0, 2] (frame [2.0, 2.5] only touches it) and [2.5, 4]
    np.testing.assert_array_equal(first.features["audio"], np.arange(12).reshape(4, 3))
    np.testing.assert_array_equal(second.features["audio"], np.arange(15, 24).reshape(3, 3))
    assert first.features["audio"].dtype == np.float32
    assert "audio" not in test.features  # no COVAREP entry for that video
    assert first.extra == {"video_id": TRAIN_VIDEO, "segment": 0, "interval": [0.0, 2.0]}
    assert corpus.info["dropped"] == {"zero-length label interval": 1, "video in no fold": 1}
    assert first.wav_path is None


def test_silence_kept_on_request_and_wav_dir(mosei, tmp_path):
    corpus = read_corpus(mosei, keep_silence=True, wav_dir=str(tmp_path / "WAV_16000"))
    second = next(r for r in corpus.records if r.id == f"{TRAIN_VIDEO}[1]")
    assert [w.word for w in second.words] == ["sp", "so", "sad"]
    assert second.wav_path == tmp_path / "WAV_16000" / f"{TRAIN_VIDEO}.wav"
    assert (second.start, second.end) == (2.5, 4.0)
    assert second.features == {}  # no feature sequence was asked for


def test_folds_from_json_sdk_file_mapping_and_default_split(mosei, tmp_path):
    folds_json = tmp_path / "folds.json"
    folds_json.write_text(json.dumps({"train": [TEST_VIDEO], "test": [TRAIN_VIDEO]}))
    corpus = read_corpus(mosei, folds=str(folds_json))
    assert {r.extra["video_id"]: r.split for r in corpus.records} == {
        TRAIN_VIDEO: "test",
        TEST_VIDEO: "train",
    }
    sdk_file = tmp_path / "cmu_mosei_std_folds.py"
    sdk_file.write_text(
        f"standard_train_fold=['{TRAIN_VIDEO}']\n\nstandard_test_fold=['x']\n\n"
        f"standard_valid_fold=['{TEST_VIDEO}', 'notInAnyFold']\n"
    )
    corpus = read_corpus(mosei, folds=str(sdk_file))
    assert {r.extra["video_id"]: r.split for r in corpus.records} == {
        TRAIN_VIDEO: "train", TEST_VIDEO: "valid", "notInAnyFold": "valid"
    }  # fmt: skip
    corpus = read_corpus(mosei, folds={"train": [TRAIN_VIDEO]}, default_split="extra")
    assert {r.split for r in corpus.records if r.extra["video_id"] != TRAIN_VIDEO} == {"extra"}


def test_embedded_standard_folds():
    folds = load_folds(None)
    counts = {s: sum(v == s for v in folds.values()) for s in ("train", "valid", "test")}
    assert counts == {"train": 2249, "valid": 300, "test": 678}
    assert (folds[TRAIN_VIDEO], folds[TEST_VIDEO], folds[VALID_VIDEO]) == ("train", "test", "valid")


def test_aligned_entries_are_read_as_they_are(tmp_path):
    folder = tmp_path / "final_aligned"
    folder.mkdir()
    label_row = np.array([[0.5, 0, 0, 0, 0, 0, 1.0]])
    write_csd(
        folder / "All Labels.csd", "All Labels", {f"{TRAIN_VIDEO}[3]": ([[4.0, 6.0]], label_row)}
    )
    aligned = {f"{TRAIN_VIDEO}[3]": ([[4.0, 4.5], [4.5, 6.0]], np.ones((2, 5), np.float32))}
    write_csd(folder / "COVAREP.csd", "COVAREP", aligned)
    corpus = read_corpus(folder, features={"audio": "COVAREP"})
    (record,) = corpus.records
    assert record.id == f"{TRAIN_VIDEO}[3]" and record.labels["fear"] == 1.0
    assert record.features["audio"].shape == (2, 5) and record.words is None
    assert record.extra["segment"] == 3


def test_errors_name_the_file_and_sequence(mosei, tmp_path):
    with pytest.raises(DataError, match=r"no computational sequence named 'OpenFace_2' for vision"):
        read_corpus(mosei, features={"vision": "OpenFace_2"})
    bad = tmp_path / "bad"
    bad.mkdir()
    write_csd(bad / "labels.csd", "All Labels", {TRAIN_VIDEO: ([[0, 1]], np.zeros((1, 6)))})
    with pytest.raises(
        DataError, match=r"labels\.csd, entry 'hh04W3xXa5s': expected 7 label columns"
    ):
        read_corpus(bad)
    plain = tmp_path / "plain" / "x.csd"
    plain.parent.mkdir()
    with h5py.File(plain, "w") as handle:
        handle.create_group("x").create_dataset("values", data=[1, 2])
    with pytest.raises(
        DataError, match=r"x\.csd: expected a root group holding 'data' and 'metadata'"
    ):
        read_corpus(plain.parent)
    only_words = tmp_path / "words_only"
    only_words.mkdir()
    write_csd(only_words / "w.csd", "words", {TRAIN_VIDEO: words([("hi", 0, 1)])})
    with pytest.raises(
        DataError,
        match=r"no computational sequence named 'All Labels' for labels; found \['words'\]",
    ):
        read_corpus(only_words)


def test_sequence_metadata_and_overlap_rule(mosei):
    with ComputationalSequence(mosei / "CMU_MOSEI_COVAREP.csd") as sequence:
        assert sequence.metadata["root name"] == "COVAREP"
        assert sequence.metadata["creator"] == "test creator"
        assert sequence.names == {"COVAREP", "CMU_MOSEI_COVAREP"}
        assert not sequence.holds_strings()
    intervals = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]])
    rows, clipped = overlapping(intervals, 0.5, 2.0)
    assert rows.tolist() == [0, 1]
    np.testing.assert_allclose(clipped, [[0.5, 1.0], [1.0, 2.0]])
