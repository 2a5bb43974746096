"""What `hri-emo predict` reads: utterances from a manifest, a folder or the command line.

- A manifest (.csv or .jsonl): one utterance per row; columns `id` (optional), `audio` (or
  `wav`/`path`: relative to the manifest's folder or absolute) and/or `text`.
- A folder: every recording in a supported format (`AUDIO_SUFFIXES`: wav, flac, mp3, ogg,
  opus, aiff; sorted), with `NAME.txt` beside `NAME.wav` as its transcript.
A JSONL line that is not a JSON object becomes an item carrying its error (the run goes on and
writes it as an error row); text holding NUL characters is refused as over HTTP.

`load_item` reads an item's recording and transcript; each problem is an error naming the file
(the caller records it in the item's error column and goes on).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from hri_emo.encoders import load_audio
from hri_emo.errors import AudioError, DataError
from hri_emo.paths import AUDIO_SUFFIXES

AUDIO_COLUMNS = ("audio", "wav", "path")
DEFAULT_MAX_SECONDS = 120.0


@dataclass
class PredictItem:
    """One utterance to classify: a recording, a transcript (inline or a file), or both."""

    id: str
    audio: Path | None = None
    text: str | None = None
    text_file: Path | None = None
    error: str | None = None  # why the manifest row itself is unusable


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


def load_item(
    item: PredictItem, max_seconds: float = DEFAULT_MAX_SECONDS
) -> tuple[np.ndarray | None, str | None]:
    """(16 kHz mono wave or None, transcript or None) of an item; errors name the file."""
    if item.error is not None:
        raise DataError(item.error)
    text = item.text.strip() if item.text is not None and item.text.strip() else None
    if item.text_file is not None:
        text = read_transcript(item.text_file)
    if text is not None and "\x00" in text:
        raise DataError(f"item {item.id}: the transcript contains NUL characters")
    wave = None
    if item.audio is not None:
        check_duration(item.audio, max_seconds)
        wave = load_audio(item.audio)
    if wave is None and text is None:
        raise DataError(f"item {item.id}: no recording and no transcript")
    return wave, text


def read_transcript(path: Path) -> str:
    """A UTF-8 transcript file's text; an empty or undecodable file is a DataError."""
    try:
        text = path.read_bytes().decode("utf-8").strip()
    except UnicodeDecodeError as err:
        raise DataError(
            f"transcript {path} is not UTF-8 text ({err.reason} at byte {err.start})"
        ) from None
    if not text:
        raise DataError(f"transcript {path} is empty")
    return text


def check_duration(path: Path, max_seconds: float) -> None:
    """Refuse a recording longer than `max_seconds` before reading it."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError):
        return  # load_audio names the problem
    seconds = info.frames / info.samplerate if info.samplerate else 0.0
    if seconds > max_seconds:
        raise AudioError(
            f"audio file {path} lasts {seconds:.1f} s, over the {max_seconds:g} s limit of one "
            "utterance (--max-seconds); cut it into utterances first"
        )
