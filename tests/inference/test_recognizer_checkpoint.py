"""EmotionRecognizer on a real training run: label set, thresholds, standardisation and the
decision rule match `hri-emo evaluate`; "record" audio cannot come from a recording."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from hri_emo.errors import ConfigError, DataError, FeatureMismatchError
from hri_emo.inference import EmotionRecognizer
from hri_emo.training.checkpoint import load_checkpoint
from hri_emo.training.evaluate import evaluate

EMOTIONS, TEXT_DIM, AUDIO_DIM = ["happy", "sad", "anger"], 8, 5  # as in conftest.py


@pytest.fixture(scope="module")
def recognizer(record_run):
    return EmotionRecognizer.from_pretrained(record_run.run_dir)


def test_run_folder_gives_the_checkpoints_labels_task_and_thresholds(record_run, recognizer):
    ckpt = load_checkpoint(record_run.run_dir)
    assert recognizer.emotions == ckpt.emotions == EMOTIONS
    assert recognizer.task == ckpt.task == "multilabel"
    assert ckpt.thresholds is not None and recognizer.thresholds == ckpt.thresholds
    assert sorted(recognizer.spec.standardizers) == ["audio"]
    same = EmotionRecognizer.from_pretrained(record_run.run_dir / "checkpoints" / "best")
    assert same.thresholds == recognizer.thresholds


def test_classify_features_matches_evaluate(record_run, recognizer, tmp_path):
    evaluate(record_run.run_dir, "test", output_dir=tmp_path, plots=False)
    with (tmp_path / "predictions.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 12
    for row in rows:
        text, tokens = record_run.text[row["id"]]
        result = recognizer.classify_features(text, record_run.audio[row["id"]], tokens)
        for emotion in EMOTIONS:
            assert result.probabilities[emotion] == pytest.approx(
                float(row[f"p_{emotion}"]), abs=1e-5
            )
        assert ";".join(result.predicted) == row["predicted"]
        assert result.words == tokens and result.task == "multilabel"


def test_standardisation_is_applied_to_given_features(record_run, recognizer):
    text, tokens = record_run.text["test_000"]
    audio = record_run.audio["test_000"]
    result = recognizer.classify_features(text, audio, tokens)
    z = recognizer.spec.standardizers["audio"].apply(audio)
    expected = recognizer.model(text=torch.from_numpy(text)[None], audio=torch.from_numpy(z)[None])
    assert list(result.probabilities.values()) == pytest.approx(
        expected.probabilities[0].tolist(), abs=1e-6
    )


def test_raw_audio_for_record_audio_is_a_clear_error(recognizer, voice, record_run):
    for text in (None, "i am happy"):
        with pytest.raises(FeatureMismatchError, match=r"audio.*record.*classify_features"):
            recognizer.classify(voice, text)
    audio = record_run.audio["test_002"]
    given = recognizer.classify(None, None, audio_features=audio)
    assert given.probabilities == recognizer.classify_features(audio_features=audio).probabilities
    with pytest.raises(DataError, match="not both"):
        recognizer.classify(voice, None, audio_features=audio)


def test_text_encoder_that_cannot_be_rebuilt_is_a_clear_error(recognizer):
    with pytest.raises(ConfigError, match=r"(?s)text encoder 'toy-text'.*classify_features"):
        recognizer.classify(None, "i am so happy")


def test_wrong_dimension_and_missing_inputs_are_clear_errors(recognizer):
    with pytest.raises(FeatureMismatchError, match=f"audio_features have dimension 7.*{AUDIO_DIM}"):
        recognizer.classify_features(audio_features=np.zeros(7))
    with pytest.raises(FeatureMismatchError, match=f"text_features.*{TEXT_DIM}"):
        recognizer.classify_features(text_features=np.zeros((3, TEXT_DIM + 1)))
    with pytest.raises(DataError, match="words: 2 given for 3"):
        recognizer.classify_features(text_features=np.zeros((3, TEXT_DIM)), words=["a", "b"])
    with pytest.raises(DataError, match="needs text_features, audio_features"):
        recognizer.classify_features()
    with pytest.raises(DataError, match="transcript is empty"):
        recognizer.classify(None, "   ")
    with pytest.raises(DataError, match="no transcript"):
        recognizer.classify(None, None)


def test_audio_only_features(recognizer, record_run):
    result = recognizer.classify_features(audio_features=record_run.audio["test_001"])
    assert set(result.probabilities) == set(EMOTIONS) and result.words == []


def test_a_folder_that_is_no_model_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="not a trained model"):
        EmotionRecognizer.from_pretrained(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        EmotionRecognizer.from_pretrained(tmp_path / "missing")
