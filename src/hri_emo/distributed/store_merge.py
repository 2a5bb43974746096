"""Merge per-rank shard stores into the one feature store every reader opens.

Rank 0 copies each shard's utterances into the final store through `FeatureStore.write`, in
corpus order, so the final store is crash-safe while it is merged (a kill leaves the store with
a committed prefix and the shards intact; the rerun merges the rest) and its ids come out in the
order a single-process run writes them. Shards are deleted only after the final store is closed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore
from hri_emo.data.store.journal import journal_dir
from hri_emo.encoders.extract import report_path_for
from hri_emo.errors import FeatureMismatchError

# What makes two stores' features interchangeable (not `created` or the versions).
CONFIG_FIELDS = ("encoder", "revision", "modality", "level", "dim", "layer", "sample_rate", "extra")


def shard_dir(out: Path) -> Path:
    """The folder of the per-rank shard stores of the final store `out`."""
    return out.with_name(out.name + ".shards")


def shard_path(out: Path, rank: int, world_size: int) -> Path:
    return shard_dir(out) / f"rank-{rank:05d}-of-{world_size:05d}.h5"


def shard_stores(out: Path) -> list[Path]:
    """Every shard store left beside `out`, whatever world size wrote it."""
    folder = shard_dir(out)
    return sorted(folder.glob("rank-*-of-*.h5")) if folder.is_dir() else []


def describe_config(meta: FeatureMetadata, storage: str) -> str:
    values = ", ".join(f"{name}={getattr(meta, name)!r}" for name in CONFIG_FIELDS)
    return f"{values}, storage={storage!r}"


def check_same_config(
    path: Path, meta: FeatureMetadata, storage: str, ref_path: Path, ref: FeatureMetadata,
    ref_storage: str,
) -> None:  # fmt: skip
    """FeatureMismatchError naming both stores and every field that differs."""
    differ = [n for n in CONFIG_FIELDS if getattr(meta, n) != getattr(ref, n)]
    differ += ["storage dtype"] if storage != ref_storage else []
    if differ:
        raise FeatureMismatchError(
            f"cannot merge feature stores of different encoders or settings ({', '.join(differ)} "
            f"differ): {path} has {describe_config(meta, storage)}; {ref_path} has "
            f"{describe_config(ref, ref_storage)}. Extract into another --out, or delete the "
            "shards of the other run"
        )


def merge_shard_stores(
    out: Path,
    shards: list[Path],
    order: Iterable[str] = (),
    expected: FeatureMetadata | None = None,
) -> int:
    """Copy the utterances of `shards` that `out` lacks into `out` (created when absent), those
    in `order` first and in that order, then any others; delete the shards. Returns how many
    utterances were copied. Shards whose encoder or settings differ from each other, from
    `out` or from `expected` are refused before anything is written."""
    out = Path(out)
    opened = [FeatureStore.open(p, "a") for p in shards]  # "a": no writer may still be at work
    try:
        reference = _reference(out, opened, expected)
        for store in opened:
            check_same_config(store.path, store.metadata, store._storage_dtype, *reference)
        copied = _copy_into(out, opened, reference[1], reference[2], order)
    finally:
        for store in opened:
            store.close()
    for path in shards:
        _remove_store(path)
    folder = shard_dir(out)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    return copied


def _reference(
    out: Path, opened: list[FeatureStore], expected: FeatureMetadata | None
) -> tuple[Path, FeatureMetadata, str]:
    """The configuration every shard must have: the final store's, else the one expected,
    else the first shard's."""
    if out.exists():
        with FeatureStore.open(out) as store:
            return out, store.metadata, store._storage_dtype
    if expected is not None:
        return Path(f"this extraction ({expected.encoder})"), expected, "float32"
    first = opened[0]
    return first.path, first.metadata, first._storage_dtype


def _copy_into(
    out: Path, opened: list[FeatureStore], meta: FeatureMetadata, dtype: str, order: Iterable[str]
) -> int:
    where = {}
    for store in opened:
        for utt_id in store.ids():
            where.setdefault(utt_id, store)
    ordered = [i for i in dict.fromkeys(order) if i in where]
    listed = set(ordered)
    ordered += [i for i in where if i not in listed]
    if out.exists():
        final = FeatureStore.open(out, "a")
    else:
        final = FeatureStore.create(out, meta, dtype=dtype)
    copied = 0
    with final:
        for utt_id in ordered:
            if utt_id in final:
                continue
            item = where[utt_id].read(utt_id)
            final.write(utt_id, item.features, tokens=item.tokens, frame_times=item.frame_times)
            copied += 1
    return copied


def _remove_store(path: Path) -> None:
    path.unlink(missing_ok=True)
    report_path_for(path).unlink(missing_ok=True)
    shutil.rmtree(journal_dir(path), ignore_errors=True)
