"""Group-wise split helpers: validation carving, speaker folds, assignment by group."""

from __future__ import annotations

import pytest

from hri_emo.data.records import Corpus, UtteranceRecord
from hri_emo.data.splits import (
    assign_splits_by_group,
    carve_validation,
    group_folds,
    group_of,
    speaker_fold,
)
from hri_emo.errors import ConfigError, DataError


def corpus_of(groups: dict[str, str], per_group: int = 3) -> Corpus:
    """`per_group` utterances for each video -> split in `groups`; speaker = video."""
    records = [
        UtteranceRecord(
            id=f"{video}_{k}",
            corpus="toy",
            split=split,
            speaker=video,
            label="x",
            extra={"video_id": video},
        )
        for video, split in groups.items()
        for k in range(per_group)
    ]
    return Corpus("toy", records, ["x"], "singlelabel", info={"source": "toy.csv"})


def videos_by_split(corpus: Corpus) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for record in corpus.records:
        out.setdefault(record.split, set()).add(record.extra["video_id"])
    return out


def test_carve_validation_moves_whole_training_groups_deterministically():
    corpus = corpus_of({**{f"tr{i}": "train" for i in range(10)}, "te0": "test", "te1": "test"})
    carved = carve_validation(corpus, "video_id", fraction=0.2, seed=3)
    splits = videos_by_split(carved)
    assert len(splits["valid"]) == 2 and splits["test"] == {"te0", "te1"}
    assert not splits["valid"] & splits["train"]
    assert len(carved.split("valid")) == 6  # all 3 utterances of each chosen video
    assert carved.info == corpus.info and corpus.splits == ["test", "train"]  # input unchanged
    again = carve_validation(corpus, "video_id", fraction=0.2, seed=3)
    assert videos_by_split(again)["valid"] == splits["valid"]
    others = {
        frozenset(videos_by_split(carve_validation(corpus, "video_id", 0.2, seed=s))["valid"])
        for s in range(6)
    }
    assert len(others) > 1  # the seed matters


def test_carve_validation_errors():
    corpus = corpus_of({"a": "train", "b": "valid"})
    with pytest.raises(DataError, match="already has a 'valid' split"):
        carve_validation(corpus, "video_id")
    with pytest.raises(DataError, match=r"'train' has 1 group\(s\), need at least 2"):
        carve_validation(corpus_of({"a": "train"}), "video_id")
    with pytest.raises(ConfigError, match=r"fraction must be in \(0, 1\)"):
        carve_validation(corpus_of({"a": "train", "b": "train"}), "video_id", fraction=1.0)
    with pytest.raises(DataError, match=r"utterance 'a_0' .* has no 'session'"):
        carve_validation(corpus_of({"a": "train", "b": "train"}), "session")


def test_group_folds_and_speaker_fold():
    speakers = ["03", "08", "09", "10", "11", "12", "13", "14", "15", "16"]
    folds = group_folds(speakers, 5)
    assert folds == [["03", "08"], ["09", "10"], ["11", "12"], ["13", "14"], ["15", "16"]]
    shuffled = group_folds(speakers, 5, seed=1)
    assert sorted(s for fold in shuffled for s in fold) == speakers and shuffled != folds
    corpus = corpus_of(dict.fromkeys(speakers, "train"), per_group=2)
    fold = speaker_fold(corpus, fold=2, n_folds=5)
    assert {r.speaker for r in fold.split("test")} == {"11", "12"}
    assert len(fold.split("train")) == 16
    with pytest.raises(ConfigError, match=r"fold must be in \[0, 4\]"):
        speaker_fold(corpus, fold=5)
    with pytest.raises(ConfigError, match=r"n_folds must be in \[2, 10\]"):
        group_folds(speakers, 11)


def test_assign_splits_by_group_checks_names():
    corpus = corpus_of({"a": "train", "b": "train", "c": "train"})
    records = assign_splits_by_group(corpus.records, "speaker", ["a"], ["b"])
    assert {r.speaker: r.split for r in records} == {"a": "test", "b": "valid", "c": "train"}
    with pytest.raises(DataError, match=r"speaker value\(s\) \['z'\] have no utterances"):
        assign_splits_by_group(corpus.records, "speaker", ["z"])
    with pytest.raises(ConfigError, match=r"\['a'\] are named for both test and valid"):
        assign_splits_by_group(corpus.records, "speaker", ["a"], ["a"])
    assert group_of(corpus.records[0], "video_id") == "a"
