"""Per-dimension feature standardisation with training-split statistics (an option of the data
pipeline, `data.standardize: [audio]`).

Utterance-level acoustic functionals (openSMILE, eGeMAPS) span very different ranges per
dimension (pitch in Hz next to jitter ratios); z-scoring them with the training split's mean and
standard deviation puts them on the scale the projections expect. The statistics are fitted once
on the training records, saved in every checkpoint (`normalization.safetensors`) and re-applied
unchanged at evaluation, so test statistics never leak into the model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from hri_emo.data.records import UtteranceRecord
from hri_emo.errors import DataError, FeatureMismatchError
from hri_emo.model.saved_files import read_safetensors

MIN_STD = 1e-8  # a dimension constant over the training split is centred, not scaled


class FeatureStandardizer:
    """z = (x − mean) / std per feature dimension."""

    def __init__(self, mean: np.ndarray, std: np.ndarray) -> None:
        self.mean = np.asarray(mean, dtype=np.float64)  # (D,)
        self.std = np.asarray(std, dtype=np.float64)  # (D,)

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])

    @classmethod
    def fit(
        cls, source: Any, records: Iterable[UtteranceRecord], modality: str
    ) -> FeatureStandardizer:
        """Statistics over every position (frame, token or pooled vector) of `records` that
        `source` has features for (float64 sums)."""
        total, total_sq, count = None, None, 0
        for record in records:
            stored = source.get(record)
            if stored is None:
                continue
            frames = np.atleast_2d(stored.features).astype(np.float64)  # (T, D)
            if total is None:
                total, total_sq = np.zeros(frames.shape[1]), np.zeros(frames.shape[1])
            total += frames.sum(axis=0)
            total_sq += (frames**2).sum(axis=0)
            count += frames.shape[0]
        if count == 0:
            raise DataError(f"cannot standardise {modality} features: no training record has any")
        mean = total / count
        std = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
        return cls(mean, np.where(std < MIN_STD, 1.0, std))

    def apply(self, features: np.ndarray) -> np.ndarray:
        """Standardised float32 copy of (T, D) or (D,) features."""
        if features.shape[-1] != self.dim:
            raise FeatureMismatchError(
                f"standardisation statistics have {self.dim} dimensions, features have "
                f"{features.shape[-1]}"
            )
        return ((features - self.mean) / self.std).astype(np.float32)


class StandardizedSource:
    """Wraps a feature source (FeatureStore or RecordFeatureSource): `get(record)` returns the
    standardised features; every other attribute is the wrapped source's."""

    def __init__(self, source: Any, standardizer: FeatureStandardizer) -> None:
        self.source = source
        self.standardizer = standardizer

    def get(self, record: UtteranceRecord):
        stored = self.source.get(record)
        if stored is None:
            return None
        return replace(stored, features=self.standardizer.apply(stored.features))

    def __contains__(self, utt_id: object) -> bool:
        return utt_id in self.source

    def __getattr__(self, name: str) -> Any:
        if name == "source":  # not set yet (unpickling in a DataLoader worker)
            raise AttributeError(name)
        return getattr(self.source, name)

    def __repr__(self) -> str:
        return f"StandardizedSource({self.source!r})"


def save_standardizers(standardizers: dict[str, FeatureStandardizer], path: str | Path) -> None:
    """One safetensors file: "<modality>.mean" and "<modality>.std" per modality."""
    tensors = {}
    for modality, standardizer in standardizers.items():
        tensors[f"{modality}.mean"] = standardizer.mean
        tensors[f"{modality}.std"] = standardizer.std
    save_file(tensors, str(path))


def load_standardizers(path: str | Path) -> dict[str, FeatureStandardizer]:
    tensors = read_safetensors(path, load_file)
    modalities = sorted({key.split(".")[0] for key in tensors})
    return {m: FeatureStandardizer(tensors[f"{m}.mean"], tensors[f"{m}.std"]) for m in modalities}
