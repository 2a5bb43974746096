"""`MixedSource`: a fixed share of the items read their features from a second (noisy) store.

Training with waveform-noise augmentation reads each training item either from the clean audio
store or from a noisy copy made through the same encoder (`hri-emo extract-noisy`). Which items
are noisy is fixed by a hash of (seed, id), so it does not depend on order, epochs or workers.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from hri_emo.data.records import UtteranceRecord


class MixedSource:
    """`get(record)`: the noisy source's features for `fraction` of the ids (when it has
    them), the clean source's otherwise; every other attribute is the clean source's."""

    def __init__(
        self,
        clean: Any,
        noisy: Any,
        fraction: float,
        seed: int = 0,
        snr: dict[str, float] | None = None,
    ) -> None:
        self.clean = clean
        self.noisy = noisy
        self.fraction = float(fraction)
        self.seed = int(seed)
        self.snr = snr  # id -> dB of the noisy copy (extract-noisy's record), or None

    def snr_of(self, record: UtteranceRecord) -> float:
        """+inf when the item is read clean; its noisy copy's SNR (NaN when not recorded)."""
        if not (self.is_noisy(record) and self.noisy.has(record)):
            return float("inf")
        return float("nan") if self.snr is None else self.snr.get(record.id, float("nan"))

    def is_noisy(self, record: UtteranceRecord) -> bool:
        digest = hashlib.sha1(f"{self.seed}:{record.id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < self.fraction

    def has(self, record: UtteranceRecord) -> bool:
        return self.clean.has(record)

    def __contains__(self, utt_id: object) -> bool:
        return utt_id in self.clean

    def length(self, utt_id: str) -> int:
        """Positions of the clean features (a noisy copy of the same recording has as many)."""
        return self.clean.length(utt_id)

    def get(self, record: UtteranceRecord):
        if self.is_noisy(record) and self.noisy.has(record):
            return self.noisy.get(record)
        return self.clean.get(record)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.clean, name)


def conditions_path(store: str | Path) -> Path:
    """Where `hri-emo extract-noisy` records each item's noise beside the store `store`."""
    store = Path(store)
    return store.with_name(store.name + ".conditions.json")


def read_snr(store: str | Path) -> dict[str, float] | None:
    """id -> SNR in dB of a noisy store's items (-inf: noise only); None for a store made
    before the conditions were recorded."""
    path = conditions_path(store)
    if not path.is_file():
        return None
    conditions = json.loads(path.read_text())
    return {
        i: float("-inf") if c["snr_db"] is None else float(c["snr_db"])
        for i, c in conditions.items()
    }
