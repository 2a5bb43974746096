"""A feature store at a glance (`hri-emo data inspect store.h5`): encoder, layer, dimension,
utterance count, length statistics, metadata, and the utterances that cannot be read or hold
NaN/Inf values (`hri-emo data validate store.h5` fails on those)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import h5py
import numpy as np

from hri_emo.data.corpus_summary import describe
from hri_emo.data.store.feature_store import FeatureStore
from hri_emo.data.store.layout import FORMAT_NAME
from hri_emo.errors import HriEmoError

STORE_SUFFIXES = (".h5", ".hdf5")
MAX_LISTED = 20


def is_feature_store(path: str | Path) -> bool:
    """True for a .h5/.hdf5 file, or any HDF5 file marked as an HRI-EMO feature store."""
    path = Path(path)
    if not path.is_file():
        return False
    if path.suffix.lower() in STORE_SUFFIXES:
        return True
    try:
        with h5py.File(path, "r") as file:
            return file.attrs.get("format") == FORMAT_NAME
    except OSError:
        return False


@dataclass
class StoreSummary:
    """What `summarize_store` found; `to_dict()` is JSON-ready, `format()` is for people."""

    path: str
    metadata: dict[str, object]
    utterances: int
    lengths: dict[str, float] | None  # positions per utterance (1 for pooled)
    with_tokens: int | None  # None when values were not read
    with_frame_times: int | None
    file_mb: float
    values_checked: bool
    bad_items: list[dict[str, str]] = field(default_factory=list)  # id, reason

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def format(self) -> str:
        m = self.metadata
        lines = [
            f"feature store {self.path} ({self.file_mb:.1f} MB)",
            f"encoder      {m['encoder']} (revision {m['revision']}), layer {m['layer']}",
            f"features     {m['modality']} {m['level']}, dim {m['dim']}"
            + (f", {m['sample_rate']} Hz input" if m.get("sample_rate") else ""),
            f"utterances   {self.utterances}"
            + (
                f" ({self.with_tokens} with tokens, {self.with_frame_times} with frame times)"
                if self.values_checked
                else ""
            ),
        ]
        if self.lengths is not None:
            s = self.lengths
            lines.append(
                f"lengths      min {s['min']:.0f}, mean {s['mean']:.1f}, median "
                f"{s['median']:.0f}, max {s['max']:.0f}"
            )
        lines.append(f"created      {m['created']} by hri_emo {m['hri_emo_version']}")
        if m.get("extra"):
            lines.append(f"extra        {m['extra']}")
        checked = "values checked" if self.values_checked else "values not read (--no-values)"
        lines.append(f"bad items    {len(self.bad_items)} ({checked})")
        lines += [f"  {b['id']!r}: {b['reason']}" for b in self.bad_items[:MAX_LISTED]]
        if len(self.bad_items) > MAX_LISTED:
            lines.append(f"  ... and {len(self.bad_items) - MAX_LISTED} more (see --json)")
        return "\n".join(lines)


def summarize_store(path: str | Path, check_values: bool = True) -> StoreSummary:
    """Open the store read-only and describe it; each unreadable utterance (or, with
    `check_values`, one holding NaN/Inf or of the wrong dimension) is listed as a bad item."""
    path = Path(path)
    lengths: list[int] = []
    bad: list[dict[str, str]] = []
    tokens = frames = 0
    with FeatureStore.open(path) as store:
        metadata = store.metadata
        for utt_id in store.ids():
            try:
                if check_values:
                    item = store.read(utt_id)
                    reason = _value_problem(item.features, metadata.dim)
                    tokens += item.tokens is not None
                    frames += item.frame_times is not None
                    if reason:
                        bad.append({"id": utt_id, "reason": reason})
                lengths.append(store.length(utt_id))
            except (HriEmoError, OSError, KeyError, ValueError) as err:
                bad.append({"id": utt_id, "reason": f"cannot be read: {err}"})
        count = len(store)
    return StoreSummary(
        path=str(path),
        metadata=asdict(metadata),
        utterances=count,
        lengths=describe([float(n) for n in lengths]),
        with_tokens=tokens if check_values else None,
        with_frame_times=frames if check_values else None,
        file_mb=path.stat().st_size / 2**20,
        values_checked=check_values,
        bad_items=bad,
    )


def _value_problem(features: np.ndarray, dim: int) -> str | None:
    if features.shape[-1:] != (dim,):
        return f"features have shape {features.shape}, the store's dim is {dim}"
    finite = np.isfinite(features)
    if not finite.all():
        return f"{int(finite.size - finite.sum())} NaN/Inf value(s) of {finite.size}"
    return None
