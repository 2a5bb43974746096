"""validate_corpus: one test per rule, each message naming the source file and utterance."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from hri_emo.data.records import Corpus, UtteranceRecord
from hri_emo.data.validation import validate_corpus
from hri_emo.errors import DataError

SOURCE = "/data/robot/manifest.csv"


def make_corpus(records: list[UtteranceRecord], task: str = "singlelabel") -> Corpus:
    emotions = ["happy", "sad"]
    return Corpus("robot", records, emotions, task, info={"source": SOURCE, "format": "manifest"})


def utt(
    utt_id: str, split: str = "train", label: str | None = "happy", **fields
) -> UtteranceRecord:
    return UtteranceRecord(id=utt_id, corpus="robot", split=split, label=label, **fields)


def healthy(tmp_path) -> list[UtteranceRecord]:
    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(800, dtype=np.float32), 16000)
    vec = np.ones(3, dtype=np.float32)
    return [
        utt("a", wav_path=wav, features={"audio": vec}),
        utt("b", label="sad", features={"audio": vec}),
        utt("c", "test", features={"audio": vec}),
    ]


def kinds_and_ids(corpus: Corpus, **kwargs) -> list[tuple[str, str | None]]:
    return [(p.kind, p.utterance) for p in validate_corpus(corpus, strict=False, **kwargs)]


def test_a_healthy_corpus_has_no_problems(tmp_path):
    assert validate_corpus(make_corpus(healthy(tmp_path))) == []


def test_missing_wav_names_the_file_and_utterance(tmp_path):
    records = [*healthy(tmp_path), utt("d", wav_path=tmp_path / "gone.wav")]
    corpus = make_corpus(records)
    with pytest.raises(
        DataError,
        match=r"manifest\.csv: utterance 'd' \(train\): wav file .*gone\.wav does not exist",
    ):
        validate_corpus(corpus)
    assert kinds_and_ids(corpus, check_files=False) == []


def test_nan_and_inf_features(tmp_path):
    records = healthy(tmp_path)
    records[1].features["audio"] = np.array([1.0, np.nan, np.inf], dtype=np.float32)
    with pytest.raises(
        DataError, match=r"utterance 'b' \(train\): audio features hold 2 NaN/Inf value\(s\) of 3"
    ):
        validate_corpus(make_corpus(records))


def test_inconsistent_feature_dims(tmp_path):
    records = healthy(tmp_path)
    records[2].features["audio"] = np.ones((4, 5), dtype=np.float32)
    corpus = make_corpus(records)
    with pytest.raises(
        DataError,
        match=r"utterance 'c' \(test\): audio features have shape \(4, 5\), "
        r"expected \(T, D\) or \(D,\) with D = 3",
    ):
        validate_corpus(corpus)
    assert kinds_and_ids(corpus, feature_dims={"audio": 5}) == [
        ("feature_dim", "a"),
        ("feature_dim", "b"),
    ]


def test_unknown_single_label_and_missing_multilabel_scores(tmp_path):
    records = healthy(tmp_path)
    records[0].label = "angry"
    with pytest.raises(
        DataError, match=r"utterance 'a' \(train\): label 'angry' is not one of \['happy', 'sad'\]"
    ):
        validate_corpus(make_corpus(records))
    multi = [
        utt("m1", label=None, labels={"happy": 1.0, "sad": 0.0}),
        utt("m2", label=None, labels={"happy": 2.0}),
        utt("m3", "test", label=None, labels={"happy": np.nan, "sad": 0.0}),
    ]
    corpus = make_corpus(multi, task="multilabel")
    problems = validate_corpus(corpus, strict=False)
    assert [(p.kind, p.utterance) for p in problems] == [("label", "m2"), ("label", "m3")]
    assert "no score for emotions ['sad']" in str(problems[0])
    assert "NaN/Inf scores ['happy']" in str(problems[1])


def test_duplicate_ids(tmp_path):
    records = [*healthy(tmp_path), utt("a", "test")]
    with pytest.raises(DataError, match=r"manifest\.csv: utterance id 'a' occurs 2 times"):
        validate_corpus(make_corpus(records))


def test_empty_corpus_and_missing_required_split(tmp_path):
    with pytest.raises(DataError, match="the corpus has no utterances"):
        validate_corpus(make_corpus([]))
    only_test = [utt("x", "test"), utt("y", "test", label="sad")]
    with pytest.raises(DataError, match=r"split 'train' has no utterances \(splits: \['test'\]\)"):
        validate_corpus(make_corpus(only_test))
    assert kinds_and_ids(make_corpus(only_test), required_splits=()) == []
    with pytest.raises(DataError, match=r"split 'valid' has no utterances"):
        validate_corpus(make_corpus(healthy(tmp_path)), required_splits=("train", "valid"))


def test_label_in_test_never_seen_in_training(tmp_path):
    records = healthy(tmp_path)
    records[1].split = "test"  # the only "sad" utterance leaves training
    records.append(utt("e", "valid", label="sad"))
    problems = validate_corpus(make_corpus(records), strict=False)
    assert [(p.kind, p.utterance) for p in problems] == [
        ("unseen_label", "b"),
        ("unseen_label", "e"),
    ]
    assert str(problems[0]) == (
        f"{SOURCE}: split 'test' has 1 utterance(s) labelled 'sad' (first: 'b') "
        "but 'train' has none"
    )


def test_strict_error_lists_every_problem(tmp_path):
    records = healthy(tmp_path) + [
        utt(f"gone{i}", wav_path=tmp_path / f"{i}.wav") for i in range(25)
    ]
    with pytest.raises(DataError, match=r"has 25 problem\(s\):(.|\n)*gone19(.|\n)*and 5 more"):
        validate_corpus(make_corpus(records))
