"""Data layer: corpus readers, utterance records, feature store, datasets and batches."""

from hri_emo.data.batch import Batch
from hri_emo.data.records import Corpus, UtteranceRecord, WordTiming

__all__ = ["Batch", "Corpus", "UtteranceRecord", "WordTiming"]
