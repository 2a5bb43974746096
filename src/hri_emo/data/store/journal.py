"""The crash-safe write path of a feature store: immutable journal shards and atomic merges.

Invariant: a file at a final name (the main store file or a published shard) is never modified
in place. New data is written to a temporary file inside the journal directory, flushed with
fsync and then published with `os.replace`, which is atomic on POSIX. A writer killed at any
moment therefore leaves only complete files at final names, plus temporaries that the next
writer deletes.

    store.h5                  main file, replaced atomically at each merge
    store.h5.journal/         exists while a writer is open (or after a crash)
        LOCK                  flock'ed by the one writer; holds its pid
        shard-00000007.h5     a committed batch of utterances (same layout as the main file)
        *.tmp                 unpublished temporaries, deleted on the next writable open

The main file's `journal_seq` attribute records the last shard merged into it, so a shard whose
seq is not greater (left behind by a crash between publishing a merge and deleting the shards)
is recognised as already merged. Shards carry the store's `store_uuid`, so shards of an older
store that `create(overwrite=True)` replaced are never mixed into a new one.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import h5py

from hri_emo.data.features import UtteranceFeatures
from hri_emo.data.store.layout import (
    FORMAT_NAME,
    append_index,
    escape_id,
    init_layout,
    read_index,
    write_utterance,
)
from hri_emo.errors import DataError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locking
    fcntl = None

SHARD_FORMAT = FORMAT_NAME + "-shard"
_SHARD_NAME = re.compile(r"^shard-(\d{8})\.h5$")


def journal_dir(path: Path) -> Path:
    """The journal directory that belongs to the store file at `path`."""
    return path.with_name(path.name + ".journal")


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish(tmp: Path, final: Path) -> None:
    """Flush `tmp` to disk and atomically move it to `final`."""
    fsync_file(tmp)
    os.replace(tmp, final)
    fsync_dir(final.parent)


class WriterLock:
    """An exclusive flock on the journal's LOCK file; the OS releases it when the writer dies."""

    def __init__(self, journal: Path) -> None:
        self.path = journal / "LOCK"
        self._fd: int | None = None
        while self._fd is None:
            journal.mkdir(parents=True, exist_ok=True)
            self._fd = self._try_lock()

    def _try_lock(self) -> int | None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is None:
            return fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DataError(
                f"feature store journal {self.path.parent} is locked by another writer "
                f"(pid {holder}); open the store read-only or wait for that writer to close"
            ) from None
        try:
            same_file = os.fstat(fd).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            same_file = False
        if not same_file:  # a closing writer unlinked LOCK between our open and flock
            os.close(fd)
            return None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        return fd

    def release(self, remove_journal: bool) -> None:
        """Unlock; with `remove_journal`, delete LOCK and the (then empty) journal directory."""
        if self._fd is None:
            return
        if remove_journal:
            self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None
        if remove_journal:
            # not empty: shards of a failed merge remain, or another writer owns it now
            with contextlib.suppress(OSError):
                self.path.parent.rmdir()


@dataclass
class Shard:
    """A published journal shard, open read-only."""

    seq: int
    path: Path
    file: h5py.File
    ids: list[str]

    def close(self) -> None:
        if self.file.id.valid:
            self.file.close()


def remove_temporaries(journal: Path) -> None:
    for tmp in journal.glob("*.tmp"):
        tmp.unlink(missing_ok=True)


class JournalChanged(Exception):
    """A shard vanished while being opened: a writer merged meanwhile; reopen the store."""


def scan_shards(journal: Path, store_uuid: str, merged_seq: int, writable: bool) -> list[Shard]:
    """Open the journal's live shards in seq order; a writer also deletes stale ones."""
    if not journal.is_dir():
        return []
    if writable:
        remove_temporaries(journal)
    shards = []
    for path in sorted(journal.iterdir()):
        match = _SHARD_NAME.match(path.name)
        if match is None:
            continue
        seq = int(match.group(1))
        file = None if seq <= merged_seq else _open_shard(path)
        if file is None or file.attrs.get("store_uuid") != store_uuid:
            if file is not None:
                file.close()
            if writable:
                path.unlink(missing_ok=True)
            continue
        shards.append(Shard(seq, path, file, read_index(file)))
    return shards


def _open_shard(path: Path) -> h5py.File:
    try:
        file = h5py.File(path, "r")
    except FileNotFoundError as err:
        raise JournalChanged(str(path)) from err
    except OSError as err:
        raise DataError(
            f"journal shard {path} cannot be read ({err}); published shards are fsync'ed before "
            "they are renamed, so this points to disk corruption — delete the shard and redo "
            "its utterances"
        ) from err
    if file.attrs.get("format") != SHARD_FORMAT:
        file.close()
        raise DataError(f"{path} is in a feature-store journal but is not a journal shard")
    return file


def write_shard(
    journal: Path,
    seq: int,
    store_uuid: str,
    pending: dict[str, UtteranceFeatures],
    storage_dtype: str,
) -> Shard:
    """Write `pending` utterances into a new shard and publish it atomically."""
    final = journal / f"shard-{seq:08d}.h5"
    tmp = final.with_name(final.name + ".tmp")
    with h5py.File(tmp, "w") as file:
        file.attrs["format"] = SHARD_FORMAT
        file.attrs["store_uuid"] = store_uuid
        file.attrs["seq"] = seq
        init_layout(file)
        for utt_id, stored in pending.items():
            write_utterance(file, utt_id, stored, storage_dtype)
        append_index(file, list(pending))
    publish(tmp, final)
    return Shard(seq, final, h5py.File(final, "r"), list(pending))


def merge_shards(main: Path, shards: list[Shard]) -> None:
    """Publish a new main file = old main + `shards` (later shards win on duplicate ids).

    The old main file is copied byte for byte to a temporary, the shards' groups are copied into
    it with HDF5 object copies, and the result replaces the main file atomically.
    """
    tmp = journal_dir(main) / (main.name + ".merge.tmp")
    shutil.copyfile(main, tmp)
    with h5py.File(tmp, "a") as file:
        utterances = file["utterances"]
        known = set(read_index(file))
        new_ids: list[str] = []
        for shard in shards:
            for utt_id in shard.ids:
                name = escape_id(utt_id)
                if name in utterances:
                    del utterances[name]
                utterances.copy(shard.file["utterances"][name], name)
                if utt_id not in known:
                    known.add(utt_id)
                    new_ids.append(utt_id)
        append_index(file, new_ids)
        file.attrs["journal_seq"] = shards[-1].seq
    publish(tmp, main)
