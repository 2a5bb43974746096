"""Feature standardisation with training statistics, through a real FeatureStore + dataset."""

from __future__ import annotations

import numpy as np
import pytest

from hri_emo.data.dataset import EmotionDataset
from hri_emo.data.normalization import (
    FeatureStandardizer,
    StandardizedSource,
    load_standardizers,
    save_standardizers,
)
from hri_emo.data.records import UtteranceRecord
from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore


@pytest.fixture
def audio_store(tmp_path):
    rng = np.random.default_rng(0)
    scales = np.array([1.0, 100.0, 0.01])  # functionals on very different scales
    path = tmp_path / "audio.h5"
    metadata = FeatureMetadata(
        encoder="functionals", revision="1", modality="audio", level="pooled", dim=3
    )
    arrays = {
        f"u{i}": (rng.normal(size=3) * scales + [0, 500, 1]).astype(np.float32) for i in range(12)
    }
    with FeatureStore.create(path, metadata) as store:
        for utt_id, array in arrays.items():
            store.write(utt_id, array)
    records = [
        UtteranceRecord(
            id=k, corpus="toy", split="train" if i < 8 else "test", label="pos" if i % 2 else "neg"
        )
        for i, k in enumerate(arrays)
    ]
    store = FeatureStore.open(path)
    yield store, records, arrays
    store.close()


def test_fit_uses_training_records_only(audio_store):
    store, records, arrays = audio_store
    train = [r for r in records if r.split == "train"]
    standardizer = FeatureStandardizer.fit(store, train, "audio")
    stacked = np.stack([arrays[r.id] for r in train]).astype(np.float64)
    np.testing.assert_allclose(standardizer.mean, stacked.mean(0), rtol=1e-6)
    np.testing.assert_allclose(standardizer.std, stacked.std(0), rtol=1e-4)


def test_standardized_source_in_a_real_dataset(audio_store):
    store, records, _ = audio_store
    train = [r for r in records if r.split == "train"]
    source = StandardizedSource(store, FeatureStandardizer.fit(store, train, "audio"))
    dataset = EmotionDataset(train, ["neg", "pos"], "singlelabel", audio_source=source)
    features = np.concatenate([dataset[i].audio for i in range(len(dataset))])  # (8, 3)
    np.testing.assert_allclose(features.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(features.std(0), 1.0, atol=1e-4)
    assert dataset.dim("audio") == 3  # metadata and length pass through the wrapper
    assert dataset.lengths() == [1] * 8


def test_constant_dimension_is_centred_not_scaled():
    standardizer = FeatureStandardizer(np.array([2.0]), np.array([1.0]))
    assert standardizer.apply(np.array([[3.0]]))[0, 0] == pytest.approx(1.0)


def test_round_trip_through_safetensors(tmp_path):
    standardizers = {"audio": FeatureStandardizer(np.arange(3.0), np.ones(3) * 2)}
    save_standardizers(standardizers, tmp_path / "norm.safetensors")
    loaded = load_standardizers(tmp_path / "norm.safetensors")
    np.testing.assert_array_equal(loaded["audio"].mean, np.arange(3.0))
    np.testing.assert_array_equal(loaded["audio"].std, np.full(3, 2.0))


def test_dimension_mismatch_is_named():
    standardizer = FeatureStandardizer(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="3 dimensions"):
        standardizer.apply(np.zeros((2, 4)))
