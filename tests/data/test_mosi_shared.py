"""The real development corpora in ../shared/data through the manifest reader.

These options are the ones the encoder and training code use:
    MOSI:  read_corpus(mosi_csv, label_map={"0": "negative", "1": "positive"})
    EmoDB: read_corpus(emodb_csv, wav_column="file", label_column="emotion")
"""

from __future__ import annotations

from collections import Counter

import pytest

from hri_emo.data.readers import read_corpus
from hri_emo.data.splits import carve_validation, speaker_fold
from hri_emo.data.validation import validate_corpus

pytestmark = pytest.mark.shared_data

MOSI_OPTIONS = {"label_map": {"0": "negative", "1": "positive"}}
EMODB_OPTIONS = {"wav_column": "file", "label_column": "emotion"}


def test_mosi_manifest(shared_data):
    corpus = read_corpus(shared_data / "cmu_mosi_utterances.csv", **MOSI_OPTIONS)
    assert corpus.task == "singlelabel" and corpus.emotions == ["negative", "positive"]
    assert Counter(r.split for r in corpus.records) == {"train": 1447, "test": 752}
    assert corpus.label_counts() == {"positive": 1176, "negative": 1023}
    assert all(r.features["audio"].shape == (73,) for r in corpus.records)
    assert all(r.text for r in corpus.records) and all(r.wav_path is None for r in corpus.records)
    videos = {s: {r.extra["video_id"] for r in corpus.split(s)} for s in ("train", "test")}
    assert (len(videos["train"]), len(videos["test"])) == (62, 31)
    assert not videos["train"] & videos["test"]
    assert validate_corpus(corpus, required_splits=("train", "test")) == []
    carved = carve_validation(corpus, "video_id", fraction=0.1, seed=0)
    valid_videos = {r.extra["video_id"] for r in carved.split("valid")}
    assert valid_videos and valid_videos <= videos["train"]
    assert not valid_videos & {r.extra["video_id"] for r in carved.split("train")}
    assert len(carved.split("test")) == 752


def test_emodb_manifest(shared_data):
    corpus = read_corpus(shared_data / "emodb" / "emodb_manifest.csv", **EMODB_OPTIONS)
    assert len(corpus.records) == 535
    assert corpus.emotions == [
        "anger",
        "boredom",
        "disgust",
        "fear",
        "happiness",
        "neutral",
        "sadness",
    ]
    assert corpus.label_counts()["anger"] == 127 and corpus.label_counts()["disgust"] == 46
    first = corpus.records[0]
    assert first.id == first.wav_path.stem and first.wav_path.is_file()
    assert first.speaker == "03" and first.text == "Der Lappen liegt auf dem Eisschrank."
    assert validate_corpus(corpus) == []  # every wav exists
    speakers = sorted({r.speaker for r in corpus.records})
    assert speakers == ["03", "08", "09", "10", "11", "12", "13", "14", "15", "16"]
    tested = []
    for fold in range(5):
        split = speaker_fold(corpus, fold, n_folds=5)
        test_speakers = {r.speaker for r in split.split("test")}
        assert len(test_speakers) == 2 and not test_speakers & {
            r.speaker for r in split.split("train")
        }
        tested.append(len(split.split("test")))
    assert sum(tested) == 535
