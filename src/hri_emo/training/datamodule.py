"""`EmotionDataModule`: a corpus + its feature sources as train/val/test DataLoaders.

Everything dataset-specific (label set, task kind, split names, where features are) comes from
the corpus reader and the `data` config; the training loop never asks which corpus it has.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

import lightning as L
import numpy as np
from torch.utils.data import DataLoader

from hri_emo.data.dataset import EmotionDataset, RecordFeatureSource, encode_target
from hri_emo.data.dialogues import past_turns
from hri_emo.data.normalization import FeatureStandardizer, StandardizedSource
from hri_emo.data.records import Corpus, UtteranceRecord
from hri_emo.data.sampler import make_dataloader
from hri_emo.data.splits import carve_validation
from hri_emo.data.store.feature_store import FeatureStore
from hri_emo.data.store.mixed_source import MixedSource, read_snr
from hri_emo.data.validation import check_unseen_labels
from hri_emo.errors import ConfigError, DataError
from hri_emo.training.config import DataConfig

log = logging.getLogger(__name__)

RECORD_SOURCE = "record"


def load_corpus(config: DataConfig) -> Corpus:
    """Read the corpus the data config names (format auto-detected when not given)."""
    from hri_emo.data.readers import read_corpus

    return read_corpus(config.corpus, config.format, **config.reader_options)


class EmotionDataModule(L.LightningDataModule):
    """Reads the corpus once, chooses the splits, opens the feature sources and fits feature
    standardisation on the training split (unless `standardizers` are given, at evaluation)."""

    def __init__(
        self,
        config: DataConfig,
        seed: int = 0,
        standardizers: dict[str, FeatureStandardizer] | None = None,
        corpus: Corpus | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.seed = seed
        self.standardizers = standardizers
        self.corpus = corpus
        self.records: dict[str, list[UtteranceRecord]] = {}
        self.sources: dict[str, Any] = {}
        self.noisy_audio: Any = None
        self._datasets: dict[str, EmotionDataset] = {}

    @property
    def emotions(self) -> list[str]:
        return list(self.corpus.emotions)

    @property
    def task(self) -> str:
        return self.corpus.task

    def setup(self, stage: str | None = None) -> None:
        """Idempotent: read the corpus, form the splits, open and wrap the feature sources."""
        if self.records:
            return
        cfg = self.config
        if self.corpus is None:
            self.corpus = load_corpus(cfg)
        if cfg.context_turns:  # fail before training: context needs dialogues in turn order
            past_turns(self.corpus.records, cfg.context_turns, str(cfg.corpus))
        self.records = self._split_records(self.corpus)
        for modality, location in (("text", cfg.text_features), ("audio", cfg.audio_features)):
            if location is not None:
                self.sources[modality] = self._open_source(modality, location)
        self._standardize()
        self.noisy_audio = self._open_noisy_audio()
        for stage_name, records in self.records.items():
            self._report_coverage(stage_name, records)

    def close(self) -> None:
        """Close the feature stores (not Lightning's `teardown`: thresholds are tuned after fit)."""
        for source in [*self.sources.values(), self.noisy_audio]:
            store = getattr(source, "source", source)
            if isinstance(store, FeatureStore):
                store.close()

    def dataset(self, stage: str, audio_read: str = "mixed") -> EmotionDataset:
        """The EmotionDataset of "train", "val" or "test". With a noisy copy of the audio the
        training items' audio is read by `audio_read`: "mixed" (training: a fixed share from the
        copy), "recorded" (every item as recorded) or "noisy" (every item from the copy where
        it has one); the probes are fitted on "recorded" and "noisy" (training/readout_fit.py)."""
        self.setup()
        key = stage if audio_read == "mixed" else f"{stage} ({audio_read})"
        if key not in self._datasets:
            audio = self.sources.get("audio")
            if stage == "train" and self.noisy_audio is not None and audio_read != "recorded":
                fraction = 1.0 if audio_read == "noisy" else self.config.noisy_audio_fraction
                snr = read_snr(self.config.noisy_audio_features)
                audio = MixedSource(audio, self.noisy_audio, fraction, self.seed, snr)
            self._datasets[key] = EmotionDataset(
                self.stage_records(stage),
                self.emotions,
                self.task,
                text_source=self.sources.get("text"),
                audio_source=audio,
                max_text_len=self.config.max_text_len,
                max_audio_len=self.config.max_audio_len,
                context_turns=self.config.context_turns,
                context_audio=self.config.context_audio,
            )
        return self._datasets[key]

    def stage_records(self, stage: str) -> list[UtteranceRecord]:
        self.setup()
        if not self.records.get(stage):
            raise DataError(
                f"corpus {self.corpus.name!r} has no {stage} records (data.{stage}_split = "
                f"{getattr(self.config, f'{stage}_split')!r}); its splits are {self.corpus.splits}"
            )
        return self.records[stage]

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", self.config.batch_size, shuffle=self.config.shuffle)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", self.config.eval_batch_size or self.config.batch_size)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", self.config.eval_batch_size or self.config.batch_size)

    def loader(self, stage: str, audio_read: str = "mixed") -> DataLoader:
        """An unshuffled loader of any stage (evaluation, threshold tuning, probe fits;
        `audio_read`: see `dataset`)."""
        batch_size = self.config.eval_batch_size or self.config.batch_size
        return self._loader(stage, batch_size, audio_read=audio_read)

    def feature_dim(self, modality: str) -> int | None:
        return self.dataset("train").dim(modality) if modality in self.sources else None

    def feature_metadata(self) -> dict[str, Any]:
        """Per modality: the feature store's FeatureMetadata, {"source": "record", "dim": D} for
        record features, or None (modality not used). Saved with every checkpoint."""
        described: dict[str, Any] = {}
        for modality in ("text", "audio"):
            source = self.sources.get(modality)
            metadata = getattr(source, "metadata", None) if source is not None else None
            if metadata is not None:
                described[modality] = asdict(metadata)
            elif source is not None:
                described[modality] = {"source": RECORD_SOURCE, "dim": self.feature_dim(modality)}
            else:
                described[modality] = None
        described["standardized"] = sorted(self.standardizers or {})
        return described

    def class_weights(self) -> dict[str, list[float]]:
        """Model-config weights from the training split (docs/metrics.md, "Class imbalance"):
        {"pos_weight": N_e / P_e} (multi-label) or {"class_weights": N / (K · n_k)}."""
        targets = np.stack(
            [encode_target(r, self.emotions, self.task) for r in self.records["train"]]
        )
        if self.task == "multilabel":
            positives = targets.sum(axis=0)  # (E,)
            negatives = len(targets) - positives
            weights = np.where(positives > 0, negatives / np.maximum(positives, 1), 1.0)
            return {"pos_weight": weights.tolist()}
        counts = np.bincount(targets, minlength=len(self.emotions)).astype(np.float64)  # (K,)
        weights = np.where(counts > 0, len(targets) / (len(counts) * np.maximum(counts, 1)), 1.0)
        return {"class_weights": weights.tolist()}

    def unseen_labels(self) -> dict[str, str]:
        """Labels the val/test splits have but the training split lacks: label -> the message
        `hri-emo data validate` gives for it (first split that has it)."""
        self.setup()
        records = [r for stage in ("train", "val", "test") for r in self.records[stage]]
        corpus = Corpus(self.corpus.name, records, self.emotions, self.task, self.corpus.info)
        found: dict[str, str] = {}
        for problem in check_unseen_labels(corpus, self.config.train_split):
            found.setdefault(str(problem.label), problem.message)
        return found

    def check_unseen_labels(self) -> list[str]:
        """Refuse (DataError) labels training never saw, unless data.allow_unseen_labels;
        then warn and return them (the checkpoint records them for evaluation)."""
        unseen = self.unseen_labels()
        if unseen and not self.config.allow_unseen_labels:
            listed = "\n  ".join(unseen.values())
            raise DataError(
                f"{len(unseen)} label(s) occur in evaluation splits but never in training, so "
                f"the model cannot learn them:\n  {listed}\nMove such utterances into "
                "training, drop them, or set data.allow_unseen_labels=true to train anyway "
                "(evaluation then reports those classes separately)"
            )
        for message in unseen.values():
            log.warning("%s (data.allow_unseen_labels=true: training anyway)", message)
        return list(unseen)

    def _loader(
        self, stage: str, batch_size: int, shuffle: bool = False, audio_read: str = "mixed"
    ) -> DataLoader:
        return make_dataloader(
            self.dataset(stage, audio_read),
            batch_size=batch_size,
            shuffle=shuffle,
            bucket_by_length=self.config.bucket_by_length and shuffle,
            seed=self.seed,
            num_workers=self.config.num_workers,
        )

    def _split_records(self, corpus: Corpus) -> dict[str, list[UtteranceRecord]]:
        cfg = self.config
        if not corpus.split(cfg.train_split):
            raise DataError(
                f"corpus {corpus.name!r} has no records in split {cfg.train_split!r} "
                f"(data.train_split); its splits are {corpus.splits}"
            )
        if cfg.validation.fraction > 0:
            corpus = carve_validation(
                corpus,
                cfg.validation.group_by,
                cfg.validation.fraction,
                cfg.validation.seed,
                source=cfg.train_split,
                target=cfg.val_split,
            )
        return {
            "train": corpus.split(cfg.train_split),
            "val": corpus.split(cfg.val_split),
            "test": corpus.split(cfg.test_split),
        }

    def _open_source(self, modality: str, location: str):
        if location == RECORD_SOURCE:
            return RecordFeatureSource(modality)
        store = FeatureStore.open(location)
        store.check_compatible(modality=modality)
        return store

    def _standardize(self) -> None:
        """Fit (training split) or re-apply (given) per-dimension standardisation."""
        wanted = list(self.config.standardize)
        if self.standardizers is None:
            self.standardizers = {
                m: FeatureStandardizer.fit(self.sources[m], self.records["train"], m)
                for m in wanted
                if self._require_source(m)
            }
        elif sorted(self.standardizers) != sorted(wanted):
            raise ConfigError(
                f"data.standardize is {wanted} but the checkpoint has statistics for "
                f"{sorted(self.standardizers)}"
            )
        for modality, standardizer in self.standardizers.items():
            self.sources[modality] = StandardizedSource(self.sources[modality], standardizer)

    def _open_noisy_audio(self) -> Any:
        """The noisy copy of the audio store (training augmentation), standardised like the
        clean one; it must come from the same encoder."""
        location = self.config.noisy_audio_features
        if not location:
            return None
        clean = getattr(self.sources["audio"], "metadata", None)
        noisy = FeatureStore.open(location)
        for key in ("encoder", "dim", "layer", "level"):
            if clean is None or getattr(noisy.metadata, key) != getattr(clean, key):
                noisy.close()
                raise ConfigError(
                    f"data.noisy_audio_features {location}: {key} "
                    f"{getattr(noisy.metadata, key)!r} differs from the clean audio store's "
                    f"{getattr(clean, key, None)!r} (make it with hri-emo extract-noisy --like "
                    f"{self.config.audio_features})"
                )
        standardizer = (self.standardizers or {}).get("audio")
        return noisy if standardizer is None else StandardizedSource(noisy, standardizer)

    def _require_source(self, modality: str) -> bool:
        if modality not in self.sources:
            raise ConfigError(
                f"data.standardize lists {modality!r} but data.{modality}_features is not set"
            )
        return True

    def _report_coverage(self, stage: str, records: list[UtteranceRecord]) -> None:
        """Log how many records of a stage lack each modality's features (missing, not dropped)."""
        for modality, source in self.sources.items():
            missing = sum(1 for r in records if not source.has(r))
            if missing:
                log.warning(
                    "%s: %d of %d records have no %s features (used without that modality)",
                    stage,
                    missing,
                    len(records),
                    modality,
                )
        if records:
            log.info("%s: %d records", stage, len(records))
