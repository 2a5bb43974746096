"""`open_run`: a trained run opened once, for evaluate, robustness, corpus explanations and the
recognizer; its recognizer decides as `hri-emo evaluate` does."""

from __future__ import annotations

import pytest

from hri_emo.errors import ConfigError
from hri_emo.inference import EmotionRecognizer
from hri_emo.training.run import open_run, stage_of

EMOTIONS = ["happy", "sad", "anger"]  # as in conftest.py


def test_a_run_gives_model_labels_thresholds_and_checked_data(record_run):
    run = open_run(record_run.run_dir)
    assert run.emotions == EMOTIONS and run.task == "multilabel"
    assert run.thresholds is not None and sorted(run.standardizers) == ["audio"]
    datamodule = run.datamodule()
    try:
        assert datamodule.emotions == run.emotions
        assert len(datamodule.dataset("test")) == 12
    finally:
        datamodule.close()


def test_the_recognizer_of_a_run_is_the_one_from_pretrained(record_run):
    run = open_run(record_run.run_dir)
    opened = EmotionRecognizer.from_run(run)
    loaded = EmotionRecognizer.from_pretrained(record_run.run_dir, asr="none")
    text, tokens = record_run.text["test_000"]
    audio = record_run.audio["test_000"]
    a = opened.classify_features(text, audio, tokens)
    b = loaded.classify_features(text, audio, tokens)
    assert a.probabilities == pytest.approx(b.probabilities, abs=1e-7)
    assert a.predicted == b.predicted and opened.thresholds == run.thresholds


def test_split_names_and_aliases():
    assert [stage_of(s) for s in ("train", "dev", "validation", "test")] == [
        "train",
        "val",
        "val",
        "test",
    ]
    with pytest.raises(ConfigError, match="--split"):
        stage_of("holdout")
