"""Data layer: `readers/` (one module per corpus format), `store/` (the HDF5 feature store) and
the core: records, features (one utterance's features and the FeatureSpec recipe), dataset,
batch, collate and sampler."""

from hri_emo.data.batch import Batch
from hri_emo.data.collate import collate_batch
from hri_emo.data.dataset import EmotionDataset, EmotionItem, RecordFeatureSource, encode_target
from hri_emo.data.features import UtteranceFeatures
from hri_emo.data.records import Corpus, UtteranceRecord, WordTiming
from hri_emo.data.sampler import LengthBucketSampler, make_dataloader
from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore

__all__ = [
    "Batch",
    "Corpus",
    "EmotionDataset",
    "EmotionItem",
    "FeatureMetadata",
    "FeatureStore",
    "LengthBucketSampler",
    "RecordFeatureSource",
    "UtteranceFeatures",
    "UtteranceRecord",
    "WordTiming",
    "collate_batch",
    "encode_target",
    "make_dataloader",
]
