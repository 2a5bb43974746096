"""MulT and MMSA pickle reader on pickles written here with the released keys and shapes."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from hri_emo.data.readers import detect_format, read_corpus
from hri_emo.errors import ConfigError, DataError

RNG = np.random.default_rng(0)


def left_padded(lengths: list[int], max_len: int, dim: int) -> np.ndarray:
    """(N, L, D) features padded with zero rows on the left, as the SDK's get_tensors does."""
    out = np.zeros((len(lengths), max_len, dim), dtype=np.float32)
    for i, n in enumerate(lengths):
        out[i, max_len - n :] = RNG.uniform(0.5, 1.0, (n, dim))
    return out


def right_padded(lengths: list[int], max_len: int, dim: int) -> np.ndarray:
    """(N, L, D) features padded with zeros at the end (MMSA-FET's default)."""
    out = np.zeros((len(lengths), max_len, dim), dtype=np.float32)
    for i, n in enumerate(lengths):
        out[i, :n] = RNG.uniform(0.5, 1.0, (n, dim))
    return out


def dump(path: Path, data: dict) -> Path:
    with path.open("wb") as handle:
        pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def mult_split(scores: list[float], lengths: list[int]) -> dict:
    """A MulT mosei_senti/mosi split: aligned text/audio/vision (N, 6, D), labels (N, 1, 1),
    id (N, 3) [video, start, end] as bytes (MulT decodes them for MOSI)."""
    n = len(scores)
    audio = left_padded(lengths, 6, 3)
    audio[0, -1, 0] = -np.inf  # COVAREP -inf, set to 0 by the loaders
    return {
        "text": left_padded(lengths, 6, 4),
        "audio": audio,
        "vision": left_padded(lengths, 6, 2),
        "labels": np.asarray(scores, dtype=np.float32).reshape(n, 1, 1),
        "id": np.array([[f"vid{i}".encode(), b"1.5", f"{2 + i}.25".encode()] for i in range(n)]),
    }


@pytest.fixture
def mult_mosei(tmp_path) -> Path:
    data = {
        "train": mult_split([1.2, -0.6, 0.0], [2, 4, 6]),
        "valid": mult_split([2.0], [3]),
        "test": mult_split([-3.0, 0.4], [1, 5]),
    }
    return dump(tmp_path / "mosei_senti_data.pkl", data)


def test_mult_sentiment_pickle(mult_mosei):
    assert detect_format(mult_mosei) == "mult_pickle"
    corpus = read_corpus(mult_mosei)
    assert corpus.task == "singlelabel" and corpus.emotions == ["negative", "non-negative"]
    assert [r.split for r in corpus.records] == ["train"] * 3 + ["valid"] + ["test"] * 2
    first, second, zero = corpus.records[:3]
    assert first.id == "vid0@1.5-2.25" and first.extra["video_id"] == "vid0"
    assert (first.label, first.labels) == ("non-negative", {"sentiment": pytest.approx(1.2)})
    assert second.label == "negative" and zero.label == "non-negative"
    # left zero padding stripped; aligned modalities share the text's span
    assert [r.features["text"].shape for r in corpus.records[:3]] == [(2, 4), (4, 4), (6, 4)]
    assert first.features["audio"].shape == (2, 3) and first.features["vision"].shape == (2, 2)
    assert first.features["audio"][-1, 0] == 0.0  # -inf replaced by 0
    assert np.isfinite(first.features["audio"]).all()
    assert first.text is None  # MulT pickles carry no transcript
    # the same [video, start, end] in several splits: later ones get "#2", "#3"
    assert [r.id for r in corpus.records[3:]] == [
        "vid0@1.5-2.25#2",
        "vid0@1.5-2.25#3",
        "vid1@1.5-3.25#2",
    ]
    assert corpus.info["renamed_ids"] == 3


def test_mult_non0_drops_neutral_and_padding_can_be_kept(mult_mosei):
    corpus = read_corpus(mult_mosei, sentiment_binary="non0", trim_zero_padding=False)
    assert corpus.emotions == ["negative", "positive"]
    assert len(corpus.records) == 5 and corpus.info["dropped"] == {
        "sentiment score 0 (sentiment_binary='non0')": 1
    }
    assert {r.features["text"].shape for r in corpus.records} == {(6, 4)}
    with pytest.raises(ConfigError, match="sentiment_binary must be one of"):
        read_corpus(mult_mosei, sentiment_binary="ternary")
    with pytest.raises(ConfigError, match=r"emotions= names \(absent, present\) label pairs"):
        read_corpus(mult_mosei, emotions=["bad", "good"])


def test_mult_iemocap_emotion_pairs(tmp_path):
    """iemocap_data.pkl: labels (N, 4, 2), one (absent, present) pair per emotion, no ids."""
    present = [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 1]]  # the last one has two emotions
    labels = np.stack([np.eye(2)[row] for row in present]).astype(np.float32)  # (3, 4, 2)
    split = {
        "text": left_padded([2, 3, 1], 4, 4),
        "audio": left_padded([2, 3, 1], 4, 3),
        "labels": labels,
    }
    path = dump(tmp_path / "iemocap_data.pkl", {"train": split, "test": split})
    corpus = read_corpus(path)
    assert corpus.task == "multilabel" and corpus.emotions == ["neutral", "happy", "sad", "angry"]
    first, second, third = corpus.records[:3]
    assert first.id == "train-0" and first.label == "neutral"
    assert first.labels == {"neutral": 1.0, "happy": 0.0, "sad": 0.0, "angry": 0.0}
    assert second.label == "sad" and third.label is None
    assert corpus.label_counts("train") == {"neutral": 1, "sad": 1, "happy": 1, "angry": 1}
    with pytest.raises(
        DataError, match=r"\['train'\] utterance 'train-2': single-label task needs exactly one"
    ):
        read_corpus(path, task="singlelabel")
    with pytest.raises(ConfigError, match=r"4 \(absent, present\) pairs; pass emotions"):
        read_corpus(path, emotions=["a", "b"])


def mmsa_split(
    scores: list[float],
    text_lengths: list[int],
    audio_lengths: list[int],
    video: str = "-3g5yACwYnA",
) -> dict:
    """An MMSA unaligned_50.pkl split (BERT text features, text_bert ids/mask/segments)."""
    n, text_len = len(scores), 6
    mask = np.zeros((n, text_len))
    for i, length in enumerate(text_lengths):
        mask[i, :length] = 1
    text_bert = np.stack([mask * 101, mask, np.zeros_like(mask)], axis=1)  # (N, 3, L)
    return {
        "raw_text": [f"clip {i} words " for i in range(n)],
        "audio": right_padded(audio_lengths, 8, 5),
        "vision": right_padded([3] * n, 7, 2),
        "id": [f"{video}$_${i}" for i in range(n)],
        "text": right_padded(text_lengths, text_len, 8),
        "text_bert": text_bert,
        "audio_lengths": audio_lengths,
        "vision_lengths": [3] * n,
        "annotations": ["Positive" if s > 0 else "Negative" for s in scores],
        "classification_labels": np.array([1 if s > 0 else 0 for s in scores]),
        "regression_labels": np.asarray(scores, dtype=np.float32),
    }


def test_mmsa_unaligned_lengths_and_raw_text(tmp_path):
    data = {
        "train": mmsa_split([0.8, -1.4], [3, 6], [8, 2]),
        "test": mmsa_split([0.0], [2], [5], "zz"),
    }
    corpus = read_corpus(dump(tmp_path / "unaligned_50.pkl", data))
    first, second, test = corpus.records
    assert first.id == "-3g5yACwYnA$_$0"
    assert first.extra == {"video_id": "-3g5yACwYnA", "clip_id": "0", "layout": "mmsa"}
    assert first.text == "clip 0 words" and first.label == "non-negative"
    assert second.label == "negative" and second.labels == {"sentiment": pytest.approx(-1.4)}
    assert first.features["text"].shape == (3, 8) and second.features["text"].shape == (6, 8)
    assert first.features["audio"].shape == (8, 5) and second.features["audio"].shape == (2, 5)
    assert first.features["vision"].shape == (3, 2)
    assert test.split == "test" and test.label == "non-negative"


def test_mmsa_aligned_follows_text_length(tmp_path):
    split = mmsa_split([1.0], [4], [6])
    for key in ("audio_lengths", "vision_lengths"):
        del split[key]  # aligned pickles have no lengths; audio/vision sit on the text positions
    split["audio"] = right_padded([4], 6, 5)
    split["vision"] = right_padded([4], 6, 2)
    corpus = read_corpus(
        dump(tmp_path / "aligned_50.pkl", {"train": split}), modalities=["text", "audio"]
    )
    (record,) = corpus.records
    assert record.features["text"].shape == (4, 8) and record.features["audio"].shape == (4, 5)
    assert "vision" not in record.features  # not asked for


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([1, 2, 3], r"expected a dict of splits .* found list"),
        (
            {"train": {"x": np.zeros(2)}},
            r"\['train'\]: neither 'labels' \(MulT\) nor 'regression_labels'",
        ),
        (
            {"train": {"labels": np.zeros((2, 7))}},
            r"labels per utterance have shape \(7,\); expected one sentiment score",
        ),
        (
            {"train": {"labels": np.zeros((2, 1, 1))}, "test": {"labels": np.zeros((2, 4, 2))}},
            r"\['test'\]: labels per utterance have shape \(4, 2\), other splits \(1, 1\)",
        ),
        (
            {"train": {"labels": np.zeros((2, 1, 1)), "text": np.zeros((3, 4, 2))}},
            r"\['train'\]: 'text' must be \(N, L, D\) with N = 2 labels, found \(3, 4, 2\)",
        ),
    ],
)
def test_malformed_pickles(tmp_path, data, match):
    with pytest.raises(DataError, match=match):
        read_corpus(dump(tmp_path / "bad.pkl", data))
