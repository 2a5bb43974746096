"""Reading manifest rows (CSV or JSONL, any text encoding) and parsing each into a record.

Every error names the file and line (and the utterance and column where there is one).
A file that is not valid text in the chosen encoding (UTF-8 unless the reader option
`encoding` says otherwise, e.g. latin-1) is a DataError naming the first offending line.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hri_emo.data.records import UtteranceRecord
from hri_emo.errors import ConfigError, DataError

Rows = Iterator[tuple[int, dict[str, object]]]


@dataclass(frozen=True)
class ManifestOptions:
    """The reader options that parsing needs (see read_manifest for their meaning)."""

    corpus_name: str
    id_column: str
    split_column: str
    text_column: str
    wav_column: str
    start_column: str
    end_column: str
    speaker_column: str
    dialogue_column: str
    turn_column: str
    label_column: str | None
    label_map: dict[str, str] | None
    emotion_columns: list[str] | None
    emotions: list[str] | None
    feature_prefixes: dict[str, str]
    default_split: str
    lowercase_text: bool


@dataclass
class Columns:
    """Which manifest column plays which role, resolved against the header."""

    id: str | None
    split: str | None
    text: str | None
    wav: str | None
    start: str | None
    end: str | None
    speaker: str | None
    dialogue: str | None
    turn: str | None
    label: str | None
    emotions: list[str] | None  # multi-label score columns
    features: dict[str, list[str]] = field(default_factory=dict)  # modality -> ordered columns
    extra: list[str] = field(default_factory=list)


def check_encoding(encoding: str) -> str:
    """The codec's canonical name; ConfigError for a name Python does not know."""
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError) as err:
        raise ConfigError(
            f"reader option encoding={encoding!r} is not a known text encoding "
            "(e.g. utf-8, latin-1, cp1252)",
            key="encoding",
        ) from err


def decoding_error(path: Path, encoding: str) -> DataError:
    """A DataError naming the first line of `path` that is not valid `encoding` text."""
    data = path.read_bytes()
    try:
        data.decode(encoding)
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        line_start = data.rfind(b"\n", 0, err.start) + 1
        line_end = data.find(b"\n", err.start)
        text = data[line_start : line_end if line_end >= 0 else len(data)]
        shown = text.decode(encoding, errors="replace").strip()
        return DataError(
            f"{path}, line {line}: byte(s) {data[err.start : err.end]!r} are not valid "
            f"{encoding} text (line reads {shown[:80]!r}). Save the file as UTF-8, or name its "
            f"encoding with the reader option encoding=<name> (e.g. --option encoding=latin-1 or "
            f"data.reader_options.encoding=latin-1)"
        )
    return DataError(f"{path}: cannot be decoded as {encoding} text")


def iter_rows(path: Path, encoding: str = "utf-8") -> tuple[list[str], Rows]:
    """(header, rows as (line number, column -> value)) of a CSV or JSONL manifest."""
    encoding = check_encoding(encoding)
    if path.suffix.lower() == ".jsonl":
        return _iter_jsonl(path, encoding)
    handle = path.open(newline="", encoding=encoding)
    reader = csv.DictReader(handle)
    try:
        header = list(reader.fieldnames or [])
    except UnicodeDecodeError:
        handle.close()
        raise decoding_error(path, encoding) from None
    if not header:
        handle.close()
        raise DataError(f"{path}: empty CSV file (no header line)")

    def rows() -> Rows:
        with handle:
            try:
                for row in reader:
                    if None in row or None in row.values():
                        raise DataError(
                            f"{path}, line {reader.line_num}: expected {len(header)} fields "
                            f"({', '.join(header)}), found a different number"
                        )
                    yield reader.line_num, row
            except UnicodeDecodeError:
                raise decoding_error(path, encoding) from None

    return header, rows()


def _iter_jsonl(path: Path, encoding: str) -> tuple[list[str], Rows]:
    rows: list[tuple[int, dict[str, object]]] = []
    header: dict[str, None] = {}
    try:
        with path.open(encoding=encoding) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    raise DataError(f"{path}, line {number}: not valid JSON ({err.msg})") from err
                if not isinstance(row, dict):
                    raise DataError(
                        f"{path}, line {number}: expected a JSON object, got {row!r:.60}"
                    )
                header.update(dict.fromkeys(row))
                rows.append((number, row))
    except UnicodeDecodeError:
        raise decoding_error(path, encoding) from None
    if not rows:
        raise DataError(f"{path}: empty JSONL manifest (no rows)")
    return list(header), iter(rows)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: object, where: str, column: str) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise DataError(f"{where}: column {column!r} is {value!r}, expected a number") from err


def class_value(value: object) -> str:
    """A class label as a string key: 1, 1.0 and "1" all become "1"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class RowParser:
    """Turns one manifest row into an UtteranceRecord (per-row checks name file and line)."""

    def __init__(self, path: Path, columns: Columns, options: ManifestOptions) -> None:
        self.path, self.columns, self.options = path, columns, options
        self.folder = path.parent

    def parse(self, line: int, row: Mapping[str, object]) -> UtteranceRecord:
        c = self.columns
        wav = self._wav(row)
        utt_id = self._text(row, c.id) if c.id else (wav.stem if wav else None)
        where = f"{self.path}, line {line} (utterance {utt_id!r})"
        if not utt_id:
            raise DataError(f"{self.path}, line {line}: empty utterance id")
        return UtteranceRecord(
            id=utt_id,
            corpus=self.options.corpus_name,
            split=self._text(row, c.split) or self.options.default_split,
            text=self._transcript(row),
            speaker=self._text(row, c.speaker),
            wav_path=wav,
            start=self._optional_number(row, c.start, where),
            end=self._optional_number(row, c.end, where),
            label=self._label(row, where),
            labels=self._scores(row, where),
            features=self._features(row, where),
            dialogue=self._text(row, c.dialogue),
            turn=self._turn(row, where),
            extra={k: row[k] for k in c.extra if k in row},
        )

    @staticmethod
    def _text(row: Mapping[str, object], column: str | None) -> str | None:
        if column is None or _blank(row.get(column)):
            return None
        return class_value(row[column])

    def _transcript(self, row: Mapping[str, object]) -> str | None:
        text = self._text(row, self.columns.text)
        return text.lower() if text and self.options.lowercase_text else text

    def _wav(self, row: Mapping[str, object]) -> Path | None:
        value = self._text(row, self.columns.wav)
        if value is None:
            return None
        wav = Path(value).expanduser()
        return wav if wav.is_absolute() else self.folder / wav

    @staticmethod
    def _optional_number(row: Mapping[str, object], column: str | None, where: str) -> float | None:
        if column is None or _blank(row.get(column)):
            return None
        return _number(row[column], where, column)

    def _turn(self, row: Mapping[str, object], where: str) -> int | None:
        column = self.columns.turn
        if column is None or _blank(row.get(column)):
            if self._text(row, self.columns.dialogue) is not None:
                raise DataError(f"{where}: has a dialogue but no turn index in column {column!r}")
            return None
        value = _number(row[column], where, column)
        if not value.is_integer():
            raise DataError(f"{where}: turn {row[column]!r} in column {column!r} is not an integer")
        return int(value)

    def _label(self, row: Mapping[str, object], where: str) -> str | None:
        column = self.columns.label
        if column is None:
            return None
        if _blank(row.get(column)):
            raise DataError(f"{where}: empty label in column {column!r}")
        value = class_value(row[column])
        label_map = self.options.label_map
        if label_map is not None:
            if value not in label_map:
                raise DataError(
                    f"{where}: label {value!r} is not a key of label_map {sorted(label_map)}"
                )
            value = str(label_map[value])
        emotions = self.options.emotions
        if emotions is not None and value not in emotions:
            raise DataError(f"{where}: label {value!r} is not one of emotions {emotions}")
        return value

    def _scores(self, row: Mapping[str, object], where: str) -> dict[str, float]:
        if self.columns.emotions is None:
            return {}
        scores = {}
        for column in self.columns.emotions:
            if _blank(row.get(column)):
                raise DataError(f"{where}: empty score in emotion column {column!r}")
            scores[column] = _number(row[column], where, column)
        return scores

    def _features(self, row: Mapping[str, object], where: str) -> dict[str, np.ndarray]:
        features = {}
        for modality, columns in self.columns.features.items():
            blank = [_blank(row.get(c)) for c in columns]
            if all(blank):
                continue  # this utterance lacks the modality
            if any(blank):
                empty = [c for c, b in zip(columns, blank) if b]
                raise DataError(
                    f"{where}: {modality} feature column(s) {empty[:5]} are empty while others "
                    f"are filled; give all {len(columns)} values or none"
                )
            values = [_number(row[c], where, c) for c in columns]
            features[modality] = np.asarray(values, dtype=np.float32)  # (D,)
        return features
