"""FeatureStore: one HDF5 file of precomputed features per corpus x encoder, safe to resume.

Writes are buffered in memory, committed in batches to immutable journal shards (published with
an atomic rename) and merged into a fresh copy of the main file that atomically replaces it
(see `hri_emo.data.store.journal`). A writer killed with SIGKILL at any moment leaves a store
that opens, holds every committed utterance completely, and no partial one: `ids()` after a
reopen tells which utterances to redo. The file layout is in `hri_emo.data.store.layout` and
docs/feature-store.md.

    with FeatureStore.create("mosei_minilm.h5", encoder.metadata) as store:
        for utt_id, encoded in ...:
            store.write(utt_id, encoded.features, tokens=encoded.tokens)
    store = FeatureStore.open("mosei_minilm.h5")
    store.check_compatible(dim=384, modality="text")
    item = store.read("vid_0[1]")  # UtteranceFeatures(features, tokens, frame_times)
"""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from hri_emo import __version__
from hri_emo.data.features import UtteranceFeatures
from hri_emo.data.records import UtteranceRecord
from hri_emo.data.store.journal import (
    JournalChanged,
    Shard,
    WriterLock,
    journal_dir,
    merge_shards,
    publish,
    scan_shards,
    write_shard,
)
from hri_emo.data.store.layout import (
    FORMAT_NAME,
    FORMAT_VERSION,
    STORAGE_DTYPES,
    FeatureMetadata,
    check_format,
    escape_id,
    init_layout,
    read_index,
    read_utterance,
    validate_utterance,
)
from hri_emo.errors import ConfigError, DataError, FeatureMismatchError

__all__ = ["FeatureMetadata", "FeatureStore"]

_FLOAT16_MAX = float(np.finfo(np.float16).max)


class FeatureStore:
    """Per-utterance features of one encoder over one corpus, in one HDF5 file.

    Open with `FeatureStore.create` (new, writable) or `FeatureStore.open` (mode "r" or "a").
    Writes become durable at `commit()`, which runs automatically every `commit_every`
    utterances (or `commit_bytes` of pending data), at the first `write` or `commit_if_due`
    call once `commit_seconds` have passed since the last commit (checked on those calls, not
    by a background timer: a writer killed while encoding loses at most the writes of that
    interval plus its current batch), and on `close()`; `close()` also merges the
    journal into the main file so that a closed store is a single plain HDF5 file. Merges also
    happen while writing once the journal holds as many bytes as the main file
    (`merge_ratio`) or `max_shards` shards, so copying stays linear in the store size.
    Uncommitted writes are visible to `read`/`ids` of this object but lost if the process dies.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        mode: str = "r",
        *,
        commit_every: int = 256,
        commit_bytes: int = 64 * 2**20,
        commit_seconds: float | None = 5.0,
        merge_ratio: float = 1.0,
        max_shards: int = 256,
        _lock: WriterLock | None = None,
    ) -> None:
        if mode not in ("r", "a"):
            raise ConfigError(f"FeatureStore mode must be 'r' or 'a', got {mode!r}")
        self.path = Path(path)
        self.mode = mode
        self.commit_every = max(1, int(commit_every))
        self.commit_bytes = int(commit_bytes)
        self.commit_seconds = None if commit_seconds is None else float(commit_seconds)
        self._last_commit = time.monotonic()
        self.merge_ratio = float(merge_ratio)
        self.max_shards = max(1, int(max_shards))
        self._closed = True
        if mode == "a" and _lock is None:
            _check_store_exists(self.path)
            _lock = WriterLock(journal_dir(self.path))
        self._lock = _lock
        self._pending: dict[str, UtteranceFeatures] = {}
        self._pending_bytes = 0
        try:
            self._load_view()
        except BaseException:
            if self._lock is not None:
                self._lock.release(remove_journal=True)
            raise
        self._closed = False

    # ----------------------------------------------------------------- opening and closing
    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        metadata: FeatureMetadata,
        overwrite: bool = False,
        *,
        dtype: str = "float32",
        **options: Any,
    ) -> FeatureStore:
        """Create an empty store (atomically) and return it open for writing.

        `dtype` "float16" halves the file size; reads always return float32.
        """
        path = Path(path)
        if dtype not in STORAGE_DTYPES:
            raise ConfigError(f"storage dtype must be one of {STORAGE_DTYPES}, got {dtype!r}")
        if path.exists() and not overwrite:
            raise DataError(f"{path} already exists; open it with mode='a' or pass overwrite=True")
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = WriterLock(journal_dir(path))
        try:
            _write_empty_store(path, metadata, dtype)
        except BaseException:
            lock.release(remove_journal=True)
            raise
        return cls(path, "a", _lock=lock, **options)

    @classmethod
    def open(cls, path: str | os.PathLike[str], mode: str = "r", **options: Any) -> FeatureStore:
        """Open an existing store read-only ("r") or to append and resume ("a")."""
        return cls(path, mode, **options)

    def close(self) -> None:
        """Commit pending writes, merge the journal into the main file and release the store."""
        if self._closed:
            return
        if self._pid != os.getpid():  # a forked copy must not merge or unlock the parent's store
            self._closed = True
            return
        try:
            if self.writable:
                self.merge()
        finally:
            self._close_handles()
            if self._lock is not None:
                self._lock.release(remove_journal=True)
                self._lock = None
            self._closed = True

    def __enter__(self) -> FeatureStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        """Pickles (for DataLoader workers) as a read-only reference that reopens the file."""
        return {"path": self.path, "commit_every": self.commit_every}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], "r", commit_every=state["commit_every"])

    # ------------------------------------------------------------------------------ reading
    @property
    def writable(self) -> bool:
        return self.mode == "a" and not self._closed

    def ids(self) -> list[str]:
        """Utterance ids in first-write order (including uncommitted writes of this object)."""
        return list(self._order)

    def __contains__(self, utt_id: object) -> bool:
        return utt_id in self._file_of or utt_id in self._pending

    def __len__(self) -> int:
        return len(self._order)

    def __repr__(self) -> str:
        return (
            f"FeatureStore({str(self.path)!r}, mode={self.mode!r}, {len(self)} utterances, "
            f"{self.metadata.describe()})"
        )

    def read(self, utt_id: str) -> UtteranceFeatures:
        """Features, tokens and frame times of one utterance (features always float32)."""
        self._check_open()
        if utt_id in self._pending:
            return _copy(self._pending[utt_id])
        return read_utterance(self._group(utt_id))

    def length(self, utt_id: str) -> int:
        """Number of positions of one utterance (1 for pooled) without reading its features."""
        self._check_open()
        if utt_id in self._pending:
            return self._pending[utt_id].length
        shape = self._group(utt_id)["features"].shape
        return 1 if len(shape) == 1 else int(shape[0])

    def get(self, record: UtteranceRecord) -> UtteranceFeatures | None:
        """Feature-source protocol: this record's features, or None when the store lacks them."""
        return self.read(record.id) if record.id in self else None

    def has(self, record: UtteranceRecord) -> bool:
        return record.id in self

    def check_compatible(
        self,
        dim: int | None = None,
        encoder: str | None = None,
        modality: str | None = None,
        level: str | None = None,
        *,
        expected_by: str = "model",
    ) -> None:
        """Raise FeatureMismatchError naming every field that differs from what is expected."""
        meta = self.metadata
        wanted = {"dim": dim, "encoder": encoder, "modality": modality, "level": level}
        problems = [
            f"{name} {value!r}"
            for name, value in wanted.items()
            if value is not None and getattr(meta, name) != value
        ]
        if problems:
            raise FeatureMismatchError(
                f"store {self.path} has dim {meta.dim} from encoder {meta.encoder!r} "
                f"({meta.modality} {meta.level} features), {expected_by} expects "
                + ", ".join(problems)
            )

    # ------------------------------------------------------------------------------ writing
    def write(
        self,
        utt_id: str,
        features: np.ndarray,
        tokens: list[str] | None = None,
        frame_times: np.ndarray | None = None,
        *,
        overwrite: bool = False,
    ) -> None:
        """Validate and buffer one utterance; an id already stored needs `overwrite=True`."""
        self._check_writable()
        stored = validate_utterance(
            utt_id, features, tokens, frame_times, self.metadata, str(self.path)
        )
        if utt_id in self and not overwrite:
            raise DataError(
                f"{self.path}: utterance {utt_id!r} is already stored; "
                "pass overwrite=True to replace it"
            )
        if self._storage_dtype == "float16" and np.abs(stored.features).max() > _FLOAT16_MAX:
            raise DataError(f"{self.path}: utterance {utt_id!r} has values beyond float16 range")
        if utt_id not in self:
            self._order.append(utt_id)
        self._pending[utt_id] = stored
        self._pending_bytes += stored.nbytes()
        if len(self._pending) >= self.commit_every or self._pending_bytes >= self.commit_bytes:
            self.commit()
        else:
            self.commit_if_due()

    def commit_if_due(self) -> bool:
        """Commit pending writes when `commit_seconds` have passed since the last commit."""
        self._check_writable()
        due = (
            self.commit_seconds is not None
            and self._pending
            and time.monotonic() - self._last_commit >= self.commit_seconds
        )
        if due:
            self.commit()
        return bool(due)

    def commit(self) -> None:
        """Make every pending write durable as one journal shard (atomic), maybe merge."""
        self._check_writable()
        self._last_commit = time.monotonic()
        if not self._pending:
            return
        shard = write_shard(
            journal_dir(self.path), self._next_seq, self._uuid, self._pending, self._storage_dtype
        )
        self._next_seq += 1
        self._shards.append(shard)
        self._file_of.update(dict.fromkeys(shard.ids, shard.file))
        self._pending = {}
        self._pending_bytes = 0
        if self._should_merge():
            self.merge()

    def merge(self) -> None:
        """Commit, then fold every journal shard into a new main file that replaces the old."""
        self.commit()
        if not self._shards:
            return
        self._main.close()
        try:
            merge_shards(self.path, self._shards)
            for shard in self._shards:
                shard.close()
                shard.path.unlink(missing_ok=True)
        finally:
            self._close_handles()
            self._load_view()

    # ------------------------------------------------------------------------------ internals
    def _load_view(self) -> None:
        """Open the main file and the live journal shards; index where each utterance is."""
        for _ in range(10):
            try:
                self._open_files()
                self._pid = os.getpid()
                return
            except JournalChanged:
                self._close_handles()
        raise DataError(f"{self.path}: the journal kept changing while opening; retry")

    def _open_files(self) -> None:
        self._main = _open_main(self.path)
        self.metadata = FeatureMetadata.read_attrs(self._main.attrs)
        self._uuid = str(self._main.attrs["store_uuid"])
        self._storage_dtype = str(self._main.attrs["storage_dtype"])
        merged_seq = int(self._main.attrs["journal_seq"])
        self._shards: list[Shard] = []
        self._shards = scan_shards(
            journal_dir(self.path), self._uuid, merged_seq, writable=self.mode == "a"
        )
        self._order = read_index(self._main)
        self._file_of: dict[str, h5py.File] = dict.fromkeys(self._order, self._main)
        for shard in self._shards:
            self._order.extend(i for i in shard.ids if i not in self._file_of)
            self._file_of.update(dict.fromkeys(shard.ids, shard.file))
        self._order.extend(i for i in self._pending if i not in self._file_of)
        self._next_seq = max([merged_seq] + [s.seq for s in self._shards]) + 1

    def _close_handles(self) -> None:
        for shard in getattr(self, "_shards", []):
            shard.close()
        main = getattr(self, "_main", None)
        if main is not None and main.id.valid:
            main.close()

    def _should_merge(self) -> bool:
        journal_bytes = sum(s.path.stat().st_size for s in self._shards)
        main_bytes = self.path.stat().st_size
        return (
            journal_bytes >= self.merge_ratio * main_bytes or len(self._shards) >= self.max_shards
        )

    def _group(self, utt_id: str) -> h5py.Group:
        if utt_id not in self._file_of:
            raise DataError(
                f"utterance {utt_id!r} is not in feature store {self.path} ({len(self)} utterances)"
            )
        return self._file_of[utt_id]["utterances"][escape_id(utt_id)]

    def _check_open(self) -> None:
        if self._closed:
            raise DataError(f"feature store {self.path} is closed")
        if self._pid != os.getpid():
            self._reopen_in_child()

    def _reopen_in_child(self) -> None:
        """After a fork (DataLoader workers) reopen read-only: HDF5 handles must not be shared."""
        self.mode, self._lock, self._pending = "r", None, {}
        self._load_view()

    def _check_writable(self) -> None:
        self._check_open()
        if self.mode != "a":
            raise DataError(f"feature store {self.path} is open read-only; open it with mode='a'")


def _copy(stored: UtteranceFeatures) -> UtteranceFeatures:
    return UtteranceFeatures(
        stored.features.copy(),
        None if stored.tokens is None else list(stored.tokens),
        None if stored.frame_times is None else stored.frame_times.copy(),
    )


def _check_store_exists(path: Path) -> None:
    if not path.is_file():
        raise DataError(f"no feature store at {path}; create one with FeatureStore.create")


def _open_main(path: Path) -> h5py.File:
    _check_store_exists(path)
    try:
        file = h5py.File(path, "r")
    except OSError as err:
        raise DataError(f"{path} cannot be read as an HDF5 feature store: {err}") from err
    try:
        check_format(file, path)
    except DataError:
        file.close()
        raise
    return file


def _write_empty_store(path: Path, metadata: FeatureMetadata, dtype: str) -> None:
    """Write a new empty main file next to its journal and publish it atomically."""
    journal = journal_dir(path)
    for stale in journal.iterdir():
        if stale.name != "LOCK":
            stale.unlink()
    metadata = dataclasses.replace(
        metadata, hri_emo_version=__version__, format_version=FORMAT_VERSION
    )
    tmp = journal / (path.name + ".create.tmp")
    with h5py.File(tmp, "w") as file:
        metadata.write_attrs(file.attrs)
        file.attrs["format"] = FORMAT_NAME
        file.attrs["store_uuid"] = uuid.uuid4().hex
        file.attrs["journal_seq"] = 0
        file.attrs["storage_dtype"] = dtype
        init_layout(file)
    publish(tmp, path)
