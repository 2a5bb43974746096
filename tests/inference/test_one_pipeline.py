"""`classify` and `predict_batch` share one rule for the modalities an utterance gives
(`usable_modalities`) and one fusion step (`explain_items`)."""

from __future__ import annotations

import pytest

from hri_emo.data.features import FeatureSpec
from hri_emo.errors import DataError, FeatureMismatchError
from hri_emo.inference.batch import usable_modalities

TEXT = {"encoder": "minilm", "dim": 384, "level": "sequence", "layer": "last"}
TEXT_ONLY = FeatureSpec(features={"text": TEXT, "audio": None})
RECORD_AUDIO = FeatureSpec(features={"text": TEXT, "audio": {"dim": 88, "source": "record"}})


def test_a_modality_the_model_was_trained_without_is_not_used():
    assert usable_modalities(TEXT_ONLY, text=True, audio=True) == {"text": True, "audio": False}


def test_nothing_left_to_use_names_the_item_and_the_modality():
    with pytest.raises(DataError, match="item 3: the model was trained without audio"):
        usable_modalities(TEXT_ONLY, text=False, audio=True, item="item 3")
    with pytest.raises(DataError, match=r"^the model was trained without audio"):
        usable_modalities(TEXT_ONLY, text=False, audio=True)
    given_features = usable_modalities(TEXT_ONLY, text=False, audio=True, features=True)
    assert given_features == {"text": False, "audio": False}  # classify's audio_features


def test_record_features_cannot_come_from_a_recording():
    with pytest.raises(FeatureMismatchError, match="record"):
        usable_modalities(RECORD_AUDIO, text=True, audio=True)
    assert usable_modalities(RECORD_AUDIO, text=True, audio=False) == {"text": True, "audio": False}
