"""Corpus readers: one module per on-disk format, all producing a `Corpus` of `UtteranceRecord`s.

    >>> sorted(list_formats())
    ['iemocap', 'manifest', 'meld', 'mosei_csd', 'mult_pickle']

`read_corpus(path)` picks the format from the path (a folder with Session1..5 -> "iemocap";
.csd files or a folder of them -> "mosei_csd"; .pkl -> "mult_pickle"; .csv/.jsonl ->
"manifest") unless `format=` names one; `**options` go to that format's reader.
"""

from __future__ import annotations

from pathlib import Path

# Importing the format modules registers their readers (order = detection order).
from hri_emo.data.readers import iemocap, manifest, meld, mosei_csd, mult_pickle  # noqa: F401
from hri_emo.data.readers.registry import (
    ReaderSpec,
    detect_format,
    get_reader,
    list_formats,
    read_with,
    register_reader,
)
from hri_emo.data.records import Corpus
from hri_emo.errors import DataError


def read_corpus(path: str | Path, format: str | None = None, **options: object) -> Corpus:
    """Read the corpus at `path` (format auto-detected when None) into a Corpus.

    Examples:
        read_corpus("cmu_mosi_utterances.csv", label_map={"0": "negative", "1": "positive"})
        read_corpus("IEMOCAP_full_release", classes=4, test_session=5)
        read_corpus("mosei_csd/", features={"audio": "COVAREP"})
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"corpus path {path} does not exist")
    spec = get_reader(format) if format is not None else get_reader(detect_format(path))
    return read_with(spec, path, options)


__all__ = [
    "ReaderSpec",
    "detect_format",
    "get_reader",
    "list_formats",
    "read_corpus",
    "register_reader",
]
