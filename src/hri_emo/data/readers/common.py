"""Helpers shared by the format readers: id checks, sentiment classes, drop bookkeeping."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from hri_emo.errors import ConfigError, DataError

log = logging.getLogger(__name__)

# MMSA's names for the two binary sentiment tasks (its metrics "Has0_acc_2" / "Non0_acc_2").
SENTIMENT_CLASSES = {
    "has0": ["negative", "non-negative"],  # score < 0 vs >= 0: every utterance kept
    "non0": ["negative", "positive"],  # score < 0 vs > 0: score == 0 utterances dropped
}


def ensure_unique_ids(ids: Iterable[str], where: str) -> None:
    """Raise DataError naming every id that occurs more than once in `where`."""
    counts = Counter(ids)
    repeated = {i: n for i, n in counts.items() if n > 1}
    if repeated:
        shown = dict(list(repeated.items())[:10])
        raise DataError(
            f"{where}: {len(repeated)} utterance id(s) occur more than once "
            f"(id: count) {shown}; ids must be unique"
        )


def sentiment_classes(scheme: str) -> list[str]:
    """Class names of a binary sentiment scheme ("has0" or "non0")."""
    if scheme not in SENTIMENT_CLASSES:
        raise ConfigError(
            f"sentiment_binary must be one of {list(SENTIMENT_CLASSES)}, got {scheme!r}"
        )
    return SENTIMENT_CLASSES[scheme]


def sentiment_label(score: float, scheme: str) -> str | None:
    """The binary class of a sentiment score in [-3, 3]; None when the scheme drops it."""
    if score < 0:
        return "negative"
    if scheme == "non0":
        return "positive" if score > 0 else None
    return "non-negative"


def log_dropped(corpus_name: str, dropped: Counter[str]) -> None:
    """One log line summarising the utterances a reader left out, by reason."""
    if dropped:
        total = sum(dropped.values())
        log.info("%s: left out %d utterance(s): %s", corpus_name, total, dict(dropped))


def text_of(value: object) -> str:
    """A string from str / bytes / numpy scalar values (pickles and HDF5 hold all three)."""
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def check_emotions(emotions: Sequence[str] | None, what: str) -> list[str] | None:
    """Validate a user-given emotion list (non-empty, unique strings)."""
    if emotions is None:
        return None
    names = [str(e) for e in emotions]
    if not names or len(set(names)) != len(names):
        raise ConfigError(f"{what}: emotions must be a non-empty list of unique names, got {names}")
    return names
