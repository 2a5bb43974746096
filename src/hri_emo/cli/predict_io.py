"""`hri-emo predict`'s guards around the user's data, all without heavy imports.

- `check_options(args)`: every option and path is checked before anything is opened, imported
  or loaded, so a mistake costs well under a second and one line (rc 2), and never an output.
- `atomic_output(path)`: outputs are written to a temporary file beside the target and renamed
  over it only when the run finished; a failed run leaves an existing file as it was.
- `items_from_path(path)`: the utterances of `--input`: a manifest (.csv or .jsonl; one row an
  utterance; columns `id` (optional), `audio` (or `wav`/`path`: relative to the manifest's
  folder or absolute) and/or `text`, optionally `word_times`: a JSON list of [start, end] or
  null per word of `text`) or a folder (every recording in a supported format,
  `AUDIO_SUFFIXES`, sorted, with `NAME.txt` beside `NAME.wav` as its transcript). A JSONL line
  that is not a JSON object becomes an item carrying its error (the run goes on and writes it
  as an error row).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from hri_emo.errors import DataError
from hri_emo.inference.asr import check_asr_choice
from hri_emo.paths import AUDIO_SUFFIXES, check_output, check_recording

MANIFEST_SUFFIXES = (".csv", ".jsonl")


def check_options(args: argparse.Namespace) -> None:
    """DataError naming the first option that cannot work (nothing has been opened yet)."""
    for name, value in (("--batch-size", args.batch_size), ("--threads", args.threads)):
        if value < 1:
            raise DataError(f"{name} must be >= 1, got {value}")
    if not (math.isfinite(args.max_seconds) and args.max_seconds > 0):
        raise DataError(
            f"--max-seconds must be a positive number of seconds, got {args.max_seconds}"
        )
    if args.input and (args.audio or args.text is not None):
        raise DataError("give --input, or --audio/--text for one utterance, not both")
    if not args.input and not args.audio and not (args.text and args.text.strip()):
        raise DataError("nothing to classify: give --audio and/or --text, or --input")
    if args.text is not None and "\x00" in args.text:
        raise DataError("--text contains NUL characters")
    check_asr_choice(args.asr)
    model = Path(args.model)
    if not model.exists():
        raise DataError(f"{model} is not a trained model: the path does not exist")
    if not model.is_dir():
        raise DataError(f"model {model} is a file; give the folder that holds it")
    if args.audio:
        check_recording(args.audio)
    if args.input:
        check_input(Path(args.input))
    if args.output:
        if not args.input:
            raise DataError("--output is for many utterances (--input); one prints to stdout")
        allowed = (".jsonl", ".json") if args.json else (".csv", ".jsonl", ".json")
        check_output(args.output, allowed, args.overwrite)


def check_input(path: Path) -> None:
    if path.is_dir():
        return
    if not path.exists():
        raise DataError(
            f"--input {path} does not exist (expected a .csv/.jsonl manifest or a folder of "
            f"recordings: {', '.join(AUDIO_SUFFIXES)})"
        )
    if path.suffix.lower() not in MANIFEST_SUFFIXES:
        raise DataError(
            f"--input {path}: expected a .csv or .jsonl manifest, or a folder of recordings"
        )


def output_format(args: argparse.Namespace) -> str:
    """ "csv" or "jsonl": from --output's extension, else --json."""
    if args.output:
        return "csv" if Path(args.output).suffix.lower() == ".csv" else "jsonl"
    return "jsonl" if args.json else "csv"


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[TextIO]:
    """A text handle on a temporary file beside `path`, renamed to `path` when the block ends
    without an error (and removed when it does not)."""
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


AUDIO_COLUMNS = ("audio", "wav", "path")


@dataclass
class PredictItem:
    """One utterance to classify: a recording, a transcript (inline or a file), or both."""

    id: str
    audio: Path | None = None
    text: str | None = None
    text_file: Path | None = None
    error: str | None = None  # why the manifest row itself is unusable
    word_times: Any = None  # the manifest's word_times: a JSON string (CSV) or a list (JSONL)


def items_from_path(path: str | Path) -> list[PredictItem]:
    """The items of a manifest file or a folder of wavs."""
    path = Path(path)
    if path.is_dir():
        return items_from_folder(path)
    if not path.is_file():
        raise DataError(
            f"input {path} does not exist (expected a manifest or a folder of recordings)"
        )
    if path.suffix.lower() not in (".csv", ".jsonl"):
        raise DataError(
            f"input {path}: expected a .csv or .jsonl manifest, or a folder of recordings"
        )
    return items_from_manifest(path)


def items_from_folder(folder: Path) -> list[PredictItem]:
    wavs = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    if not wavs:
        raise DataError(
            f"folder {folder} has no recordings (looked for {', '.join(AUDIO_SUFFIXES)})"
        )
    items = []
    for wav in wavs:
        transcript = wav.with_suffix(".txt")
        items.append(
            PredictItem(wav.stem, wav, text_file=transcript if transcript.is_file() else None)
        )
    return items


def items_from_manifest(path: Path) -> list[PredictItem]:
    rows = _read_rows(path)
    if not rows:
        raise DataError(f"manifest {path} has no rows")
    columns = set().union(*(row.keys() for row in rows if isinstance(row, dict)))
    audio_column = next((c for c in AUDIO_COLUMNS if c in columns), None)
    if columns and audio_column is None and "text" not in columns:
        raise DataError(
            f"manifest {path} has neither an audio column ({', '.join(AUDIO_COLUMNS)}) nor a "
            f"text column; its columns are {sorted(columns)}"
        )
    items = []
    for number, row in enumerate(rows, start=1):
        if isinstance(row, str):  # the reason a JSONL line is unusable
            items.append(PredictItem(id=f"row{number}", error=row))
            continue
        audio = str(row.get(audio_column) or "").strip() if audio_column else ""
        text = row.get("text")
        items.append(
            PredictItem(
                id=str(row.get("id") or f"row{number}"),
                audio=(path.parent / audio) if audio else None,
                text=None if text is None else str(text),
                word_times=row.get("word_times") or None,  # an empty CSV cell: none
            )
        )
    return items


def _read_rows(path: Path) -> list[dict | str]:
    """The manifest's rows; a JSONL line that is not a JSON object is kept as its error (a
    string naming the line), so one bad line costs one error row, not the run."""
    try:
        if path.suffix.lower() == ".csv":
            with path.open(newline="", encoding="utf-8") as handle:
                return list(csv.DictReader(handle))
        rows: list[dict | str] = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                rows.append(_jsonl_row(path, number, line))
        return rows
    except UnicodeDecodeError as err:
        raise DataError(f"manifest {path} is not UTF-8 text: {err}") from err


def _jsonl_row(path: Path, number: int, line: str) -> dict | str:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        return f"manifest {path} line {number}: invalid JSON ({err.msg} at column {err.colno})"
    if not isinstance(row, dict):
        return f"manifest {path} line {number}: expected a JSON object, got {type(row).__name__}"
    return row
