"""`predict_sharded`: `hri-emo predict --input ... --output FILE` over the ranks of a torchrun job.

Each rank classifies the strided shard `shard_indices(len(items), rank, world_size)` and appends
its rows, rendered exactly as the single-process writer renders them, to its own part file
`<output>.parts/rank-RRRRR-of-WWWWW.jsonl` (one JSON line per row: the item's index and the row
text), flushed and fsync'ed per batch. A killed worker leaves at worst a torn last line, which
the rerun drops; rows already in any part file are not classified again. Rank 0 then writes the
output once, header and rows in input order, to a temporary that atomically replaces `--output`,
and deletes the parts: every row appears exactly once, error rows included.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

from hri_emo.data.store.journal import fsync_dir, fsync_file
from hri_emo.distributed.context import DistContext, shard_indices
from hri_emo.errors import DataError, HriEmoError

PART_FORMAT = "hri-emo-predict-part"


def parts_dir(output: Path) -> Path:
    return output.with_name(output.name + ".parts")


def part_path(output: Path, rank: int, world_size: int) -> Path:
    return parts_dir(output) / f"rank-{rank:05d}-of-{world_size:05d}.jsonl"


class RowRenderer:
    """The text the single-process `RowWriter` writes for a header and for each row."""

    def __init__(self, writer_cls: Any, fmt: str, emotions: list[str], maps: bool) -> None:
        self._buffer = io.StringIO()
        self._writer = writer_cls(self._buffer, fmt, emotions, maps)
        self.header = self._take()

    def _take(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text

    def render(self, item: Any, outcome: Any) -> str:
        self._writer.write(item, outcome)
        return self._take()


def run_header(items: list[Any], fmt: str, maps: bool) -> dict[str, Any]:
    """What a part file must match to be resumed: the same items, format and options."""
    ids = hashlib.sha256("\n".join(f"{i.id}\t{i.audio}" for i in items).encode()).hexdigest()
    return {"format": PART_FORMAT, "items": len(items), "ids_sha256": ids, "fmt": fmt, "maps": maps}


def _complete_lines(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The complete JSON lines of a part file and the byte length they span (a torn last line
    of a killed writer is left out)."""
    entries, length = [], 0
    with path.open("rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                break
            length += len(line)
    return entries, length


def read_part(path: Path, header: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """index -> {"row", "error"} of one part file; DataError when it belongs to another run."""
    if not path.exists():
        return {}
    entries, _ = _complete_lines(path)
    if not entries:
        return {}
    if entries[0] != header:
        raise DataError(
            f"{path} holds rows of another predict run (other input, output format or --maps); "
            f"delete {path.parent} to start over"
        )
    return {entry["i"]: entry for entry in entries[1:]}


class PartWriter:
    """Appends rows to this rank's part file; each batch is durable once `append` returns."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        entries, length = _complete_lines(path) if path.exists() else ([], 0)
        self.handle = path.open("ab")
        self.handle.truncate(length if entries else 0)  # drop a torn last line
        if not entries:
            self.append([header])

    def append(self, entries: list[dict[str, Any]]) -> None:
        self.handle.write(b"".join(json.dumps(e).encode() + b"\n" for e in entries))
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()


def predict_sharded(
    items: list[Any], classify, renderer: RowRenderer, output: Path, header: dict, ctx: DistContext,
    batch_size: int, progress: bool = True,
) -> tuple[int, int, int]:  # fmt: skip
    """This rank's share of the rows, then (on rank 0) the output. `classify(batch)` gives one
    outcome per item (a result, or an error message string). Returns (rows, error rows, rows
    resumed from part files of an earlier run)."""
    from tqdm import tqdm

    done: set[int] = set()
    for path in sorted(parts_dir(output).glob("rank-*-of-*.jsonl")):
        done |= read_part(path, header).keys()
    own = shard_indices(len(items), ctx.rank, ctx.world_size)
    todo = [i for i in own if i not in done]
    part = PartWriter(part_path(output, ctx.rank, ctx.world_size), header)
    try:
        with tqdm(total=len(todo), unit="utt", disable=not (progress and ctx.is_main)) as bar:
            for first in range(0, len(todo), batch_size):
                indices = todo[first : first + batch_size]
                outcomes = classify([items[i] for i in indices])
                part.append([_entry(i, items[i], o, renderer) for i, o in zip(indices, outcomes)])
                bar.update(len(indices))
    finally:
        part.close()
    resumed = sum(ctx.gather(len(own) - len(todo)))  # meeting point: every row is durable
    error = None
    counts = (0, 0)
    if ctx.is_main:
        try:
            counts = assemble(output, renderer.header, header)
        except HriEmoError as err:
            error = str(err)
    error, counts = ctx.broadcast((error, counts))
    if error:
        raise DataError(error)
    return (*counts, resumed)


def _entry(index: int, item: Any, outcome: Any, renderer: RowRenderer) -> dict[str, Any]:
    return {"i": index, "error": isinstance(outcome, str), "row": renderer.render(item, outcome)}


def assemble(output: Path, text_header: str, header: dict[str, Any]) -> tuple[int, int]:
    """Write the output from the part files (rows in input order) atomically; delete the parts."""
    rows: dict[int, dict[str, Any]] = {}
    for path in sorted(parts_dir(output).glob("rank-*-of-*.jsonl")):
        for index, entry in read_part(path, header).items():
            rows.setdefault(index, entry)
    missing = [i for i in range(header["items"]) if i not in rows]
    if missing:
        where = parts_dir(output)
        raise DataError(f"{len(missing)} row(s) missing from {where}: a rerun adds them")
    tmp = output.with_name(output.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        handle.write(text_header)
        for index in range(header["items"]):
            handle.write(rows[index]["row"])
    fsync_file(tmp)
    os.replace(tmp, output)
    fsync_dir(output.parent)
    shutil.rmtree(parts_dir(output), ignore_errors=True)
    return len(rows), sum(entry["error"] for entry in rows.values())
