"""CMU-MultimodalSDK computational sequences (.csd): read-only, lazy access with h5py.

File layout (the SDK's `write_CSD` / `read_CSD`, mmsdk/mmdatasdk/computational_sequence):
    /<root name>/data/<entry id>/features   (n, d) array, one row per interval
    /<root name>/data/<entry id>/intervals  (n, 2) float start/end seconds
    /<root name>/metadata/<key>             (1,) variable-length str holding json.dumps(value)
The root group is the file's first key; entry ids are video ids, or "<video>[<k>]" once the
SDK has aligned a sequence to another one (segment k of the reference's intervals).
Word sequences (e.g. CMU_MOSEI_TimestampedWords) hold (n, 1) byte strings, "sp" = silence.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from hri_emo.errors import DataError

# The SDK's tolerance for comparing interval ends (mmdatasdk/dataset/dataset.py: 10e-6).
EPSILON = 1e-5


def _metadata_to_dict(group: h5py.Group) -> dict[str, object]:
    """The SDK's metadata_to_dict: each value is JSON text in a one-element string dataset."""
    metadata: dict[str, object] = {}
    for key in group:
        raw = group[key][0]
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        try:
            metadata[key] = json.loads(text)
        except json.JSONDecodeError:
            metadata[key] = text
    return metadata


class ComputationalSequence:
    """One .csd file. Entries are read on demand; use as a context manager or call close()."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as err:
            raise DataError(
                f"{self.path}: not a readable HDF5 computational sequence ({err})"
            ) from err
        roots = list(self._file.keys())
        root = self._file[roots[0]] if roots else None
        if not isinstance(root, h5py.Group) or "data" not in root or "metadata" not in root:
            found = list(root.keys()) if isinstance(root, h5py.Group) else roots
            self._file.close()
            raise DataError(
                f"{self.path}: expected a root group holding 'data' and 'metadata' "
                f"(CMU-MultimodalSDK layout), found {found}"
            )
        self.root_name: str = roots[0]
        self.metadata = _metadata_to_dict(root["metadata"])
        self._data: h5py.Group = root["data"]

    @property
    def names(self) -> set[str]:
        """Names that refer to this sequence: root group, metadata "root name", file stem."""
        return {self.root_name, str(self.metadata.get("root name", self.root_name)), self.path.stem}

    def entries(self) -> list[str]:
        return list(self._data.keys())

    def __contains__(self, key: str) -> bool:
        return key in self._data

    def entry(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(intervals (n, 2) float64, features (n, d)) of one entry, checked like the SDK does."""
        group = self._data[key]
        intervals = np.asarray(group["intervals"][()], dtype=np.float64)
        features = group["features"][()]
        where = f"{self.path} ({self.root_name}), entry {key!r}"
        if intervals.ndim != 2 or intervals.shape[1] != 2:
            raise DataError(f"{where}: intervals must be (n, 2), found {intervals.shape}")
        if features.ndim < 2 or features.shape[0] != intervals.shape[0]:
            raise DataError(
                f"{where}: features must be (n, d) with n = {intervals.shape[0]} intervals, "
                f"found {features.shape}"
            )
        return intervals, features

    def holds_strings(self) -> bool:
        """True when the features are strings (a words or phones sequence)."""
        keys = self.entries()
        return bool(keys) and self._data[keys[0]]["features"].dtype.kind in "SOU"

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ComputationalSequence:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ComputationalSequence({self.root_name!r}, {self.path.name!r})"


def overlapping(intervals: np.ndarray, start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `intervals` that overlap [start, end], clipped to it, as the SDK's alignment does
    (mmdataset.__intersect_and_copy): (row indices, clipped (k, 2) intervals); rows whose clipped
    length is below EPSILON are left out."""
    hits = (intervals[:, 0] < end + EPSILON) & (intervals[:, 1] > start - EPSILON)
    rows = np.flatnonzero(hits)
    clipped = np.stack(
        [np.maximum(intervals[rows, 0], start), np.minimum(intervals[rows, 1], end)], axis=1
    )
    keep = np.abs(clipped[:, 1] - clipped[:, 0]) > EPSILON
    return rows[keep], clipped[keep]


def decode_words(features: np.ndarray) -> list[str]:
    """Word strings from an (n, 1) byte/str feature array."""
    column = features[:, 0] if features.ndim == 2 else features
    return [w.decode("utf-8", errors="replace") if isinstance(w, bytes) else str(w) for w in column]
