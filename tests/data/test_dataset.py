"""EmotionDataset over real stores and in-record features: targets, missing data, truncation."""

from __future__ import annotations

import numpy as np
import pytest

from hri_emo.data.dataset import EmotionDataset, RecordFeatureSource, encode_target
from hri_emo.data.features import UtteranceFeatures, pool_audio
from hri_emo.data.records import UtteranceRecord, WordTiming
from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore
from hri_emo.errors import ConfigError, DataError, FeatureMismatchError

EMOTIONS = ["happy", "sad", "anger"]


def record(utt_id: str, text: str = "so happy today", **labels: float) -> UtteranceRecord:
    scores = {"happy": 0.0, "sad": 0.0, "anger": 0.0, **labels}
    return UtteranceRecord(id=utt_id, corpus="toy", split="train", text=text, labels=scores)


def frames(length: int, dim: int, offset: float = 0.0) -> np.ndarray:
    return (np.arange(length * dim, dtype=np.float32).reshape(length, dim) + offset) / 10


def hop_times(length: int, hop: float = 0.02) -> np.ndarray:
    start = np.arange(length) * hop
    return np.stack([start, start + hop], axis=1)


@pytest.fixture
def stores(tmp_path):
    """A text store (tokens) with a, b, c and an audio store (frame times) with a and c."""
    text_meta = FeatureMetadata("minilm", "r", "text", "sequence", dim=4)
    audio_meta = FeatureMetadata("whisper", "r", "audio", "sequence", dim=3, sample_rate=16000)
    with FeatureStore.create(tmp_path / "text.h5", text_meta) as text:
        text.write("a", frames(3, 4), tokens=["so", "happy", "today"])
        text.write("b", frames(2, 4, 1.0), tokens=["oh", "no"])
        text.write("c", frames(5, 4, 2.0), tokens=list("vwxyz"))
    with FeatureStore.create(tmp_path / "audio.h5", audio_meta) as audio:
        audio.write("a", frames(10, 3), frame_times=hop_times(10))
        audio.write("c", frames(4, 3, 5.0), frame_times=hop_times(4))
    text, audio = FeatureStore.open(tmp_path / "text.h5"), FeatureStore.open(tmp_path / "audio.h5")
    yield text, audio
    text.close()
    audio.close()


def test_items_from_stores_with_missing_modality(stores):
    text, audio = stores
    records = [record("a", happy=2.3333), record("b", "oh no", sad=1.0, anger=0.5), record("c")]
    dataset = EmotionDataset(records, EMOTIONS, "multilabel", text_source=text, audio_source=audio)
    a, b = dataset[0], dataset[1]
    assert len(dataset) == 3 and a.id == "a"
    np.testing.assert_array_equal(a.text, frames(3, 4))
    np.testing.assert_array_equal(a.audio, frames(10, 3))
    assert a.tokens == ["so", "happy", "today"] and a.raw_text == "so happy today"
    np.testing.assert_array_equal(a.frame_times, hop_times(10))
    np.testing.assert_array_equal(a.target, [1.0, 0.0, 0.0])
    np.testing.assert_allclose(a.intensities, [2.3333, 0.0, 0.0])
    assert b.audio is None and b.frame_times is None
    np.testing.assert_array_equal(b.target, [0.0, 1.0, 1.0])
    np.testing.assert_allclose(b.intensities, [0.0, 1.0, 0.5])
    assert dataset.dim("text") == 4 and dataset.dim("audio") == 3


def test_require_all_names_the_utterance(stores):
    text, audio = stores
    records = [record("a"), record("b")]
    with pytest.raises(DataError, match=r"'b'.*no audio features"):
        EmotionDataset(records, EMOTIONS, "multilabel", text, audio, require_all=True)
    source = RecordFeatureSource("audio")
    with pytest.raises(DataError, match=r"'a'.*no audio features"):
        EmotionDataset(records, EMOTIONS, "multilabel", audio_source=source, require_all=True)


def test_single_label_targets_and_label_errors():
    records = [
        UtteranceRecord("s1", "iemocap", "train", label="sad", labels={"valence": 2.0}),
        UtteranceRecord("s2", "iemocap", "train", label="happy"),
    ]
    dataset = EmotionDataset(records, EMOTIONS, "singlelabel")
    assert dataset[0].target.dtype == np.int64 and int(dataset[0].target) == 1
    assert int(dataset[1].target) == 0 and dataset[1].intensities is None
    unknown = UtteranceRecord("s3", "iemocap", "train", label="frustrated")
    with pytest.raises(DataError, match=r"'s3'.*'frustrated', not one of"):
        EmotionDataset([*records, unknown], EMOTIONS, "singlelabel")
    unlabelled = UtteranceRecord("s4", "iemocap", "train")
    with pytest.raises(DataError, match=r"'s4'.*no class label"):
        EmotionDataset([unlabelled], EMOTIONS, "singlelabel")
    assert EmotionDataset([unlabelled], EMOTIONS, "singlelabel", labelled=False)[0].target is None


def test_encode_target_multilabel_and_missing_scores():
    np.testing.assert_array_equal(
        encode_target(record("m", happy=0.3, anger=3.0), EMOTIONS, "multilabel"), [1, 0, 1]
    )
    partial = UtteranceRecord("m2", "mosei", "train", labels={"happy": 1.0})
    with pytest.raises(DataError, match=r"'m2'.*no score for \['sad', 'anger'\]"):
        encode_target(partial, EMOTIONS, "multilabel")
    with pytest.raises(DataError, match=r"'m3'.*NaN"):
        encode_target(record("m3", sad=float("nan")), EMOTIONS, "multilabel")
    with pytest.raises(ConfigError, match="task"):
        encode_target(record("m"), EMOTIONS, "regression")


def test_record_features_pooled_and_word_aligned():
    words = [WordTiming("hello", 0.0, 0.4), WordTiming("there", 0.5, 0.9)]
    pooled = record("p", "hello there")
    pooled.features = {"text": np.ones(5), "audio": frames(2, 3)}
    pooled.words = words
    dataset = EmotionDataset(
        [pooled], EMOTIONS, "multilabel", RecordFeatureSource("text"), RecordFeatureSource("audio")
    )
    item = dataset[0]
    assert item.text.shape == (1, 5) and item.text.dtype == np.float32
    assert item.tokens == ["hello there"]  # one label for the one pooled position
    np.testing.assert_array_equal(item.audio, frames(2, 3))
    np.testing.assert_array_equal(item.frame_times, [[0.0, 0.4], [0.5, 0.9]])
    assert dataset.dim("text") == 5 and dataset.lengths() == [1 + 2]


def test_bad_record_features_fail_early():
    bad = record("nan-utt")
    bad.features = {"text": np.array([[0.0, np.nan]])}
    with pytest.raises(DataError, match=r"'nan-utt'.*NaN"):
        EmotionDataset([bad], EMOTIONS, "multilabel", text_source=RecordFeatureSource("text"))
    first, second = record("r1"), record("r2")
    first.features = {"audio": np.zeros((3, 4))}
    second.features = {"audio": np.zeros((3, 5))}
    with pytest.raises(FeatureMismatchError, match=r"'r2' have dim 5.*'r1' has dim 4"):
        EmotionDataset(
            [first, second], EMOTIONS, "multilabel", audio_source=RecordFeatureSource("audio")
        )


def test_truncation_of_both_modalities(stores):
    text, audio = stores
    records = [record("a"), record("c")]
    dataset = EmotionDataset(
        records, EMOTIONS, "multilabel", text, audio, max_text_len=2, max_audio_len=4
    )
    a, c = dataset[0], dataset[1]
    np.testing.assert_array_equal(a.text, frames(3, 4)[:2])
    assert a.tokens == ["so", "happy"]
    # 10 frames -> 4 chunks [0:2], [2:5], [5:7], [7:10], each averaged
    full = frames(10, 3)
    chunks = [full[0:2], full[2:5], full[5:7], full[7:10]]
    np.testing.assert_allclose(a.audio, [chunk.mean(axis=0) for chunk in chunks], rtol=1e-6)
    np.testing.assert_allclose(
        a.frame_times, [[0.0, 0.04], [0.04, 0.10], [0.10, 0.14], [0.14, 0.20]]
    )
    np.testing.assert_array_equal(c.audio, frames(4, 3, 5.0))  # not longer than the limit
    assert c.text.shape == (2, 4) and c.tokens == ["v", "w"]
    assert dataset.lengths() == [2 + 4, 2 + 4]
    full_lengths = EmotionDataset(records, EMOTIONS, "multilabel", text, audio).lengths()
    assert full_lengths == [3 + 10, 5 + 4]


def test_pool_audio_keeps_every_frame_once():
    stored = UtteranceFeatures(frames(1001, 2), None, hop_times(1001))
    pooled = pool_audio(stored, 7)
    assert pooled.features.shape == (7, 2)
    np.testing.assert_allclose(pooled.frame_times[0, 0], 0.0)
    np.testing.assert_allclose(pooled.frame_times[-1, 1], 1001 * 0.02)
    np.testing.assert_array_equal(pooled.frame_times[1:, 0], pooled.frame_times[:-1, 1])
    assert pool_audio(stored, 2000) is stored


def test_bad_max_len_is_a_config_error():
    with pytest.raises(ConfigError, match="max_audio_len"):
        EmotionDataset([record("a")], EMOTIONS, "multilabel", max_audio_len=0)
