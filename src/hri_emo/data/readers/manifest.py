"""Plain manifests (CSV or JSONL, one utterance per row): how a team brings its own recordings.

Columns (names configurable): id, split, text, wav (relative to the manifest's folder or
absolute), start/end (seconds within the wav), speaker; precomputed per-utterance features as
numbered columns by modality prefix (`audio_0..audio_N` -> features["audio"], shape (N+1,));
labels as one class column (single-label) or one score column per emotion (multi-label).
Every other column is kept in `record.extra` (e.g. MOSI's video_id for group splits).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hri_emo.data.readers.common import check_emotions
from hri_emo.data.readers.registry import register_reader
from hri_emo.data.records import Corpus, UtteranceRecord
from hri_emo.data.splits import assign_splits_by_group
from hri_emo.errors import ConfigError, DataError

SUFFIXES = (".csv", ".jsonl")
DEFAULT_FEATURE_PREFIXES = {"audio": "audio_", "text": "text_", "vision": "vision_"}


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
    label: str | None
    emotions: list[str] | None  # multi-label score columns
    features: dict[str, list[str]] = field(default_factory=dict)  # modality -> ordered columns
    extra: list[str] = field(default_factory=list)


def _numbered_columns(header: Sequence[str], prefix: str, source: str) -> list[str]:
    """`prefix0..prefixN` columns in index order; DataError when an index is missing."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)$")
    indexed = {int(m.group(1)): c for c in header if (m := pattern.match(c))}
    if not indexed:
        return []
    missing = sorted(set(range(max(indexed) + 1)) - set(indexed))
    if missing:
        raise DataError(
            f"{source}: feature columns {prefix}0..{prefix}{max(indexed)} lack index(es) "
            f"{missing[:10]}; numbered feature columns must be contiguous from 0"
        )
    return [indexed[i] for i in sorted(indexed)]


def resolve_columns(header: Sequence[str], source: str, options: ManifestOptions) -> Columns:
    """Map the option names onto the header; optional roles whose column is absent are None."""

    def optional(name: str | None) -> str | None:
        return name if name in header else None

    label, emotions = options.label_column, options.emotion_columns
    if emotions is not None:
        absent = [c for c in emotions if c not in header]
        if absent:
            raise DataError(f"{source}: emotion column(s) {absent} not in header {list(header)}")
        label = None
    elif label is not None and label not in header:
        raise DataError(
            f"{source}: no label column {label!r} (header: {list(header)}). Set "
            f"label_column=<column>, emotion_columns=[...] for multi-label scores, or "
            f"label_column=None for an unlabelled corpus"
        )
    id_column, wav = optional(options.id_column), optional(options.wav_column)
    if id_column is None and wav is None:
        raise DataError(
            f"{source}: neither an id column {options.id_column!r} nor a wav column "
            f"{options.wav_column!r} (to take ids from file names); header: {list(header)}"
        )
    features = {
        m: _numbered_columns(header, p, source) for m, p in options.feature_prefixes.items()
    }
    columns = Columns(
        id=id_column,
        split=optional(options.split_column),
        text=optional(options.text_column),
        wav=wav,
        start=optional(options.start_column),
        end=optional(options.end_column),
        speaker=optional(options.speaker_column),
        label=label,
        emotions=list(emotions) if emotions is not None else None,
        features={m: cols for m, cols in features.items() if cols},
    )
    used = {c for c in vars(columns).values() if isinstance(c, str)}
    used |= set(columns.emotions or []) | {c for cols in columns.features.values() for c in cols}
    columns.extra = [c for c in header if c not in used]
    return columns


def iter_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, object]]]]:
    """(header, rows as (line number, column -> value)) of a CSV or JSONL manifest."""
    if path.suffix.lower() == ".jsonl":
        return _iter_jsonl(path)
    handle = path.open(newline="", encoding="utf-8")
    reader = csv.DictReader(handle)
    header = list(reader.fieldnames or [])
    if not header:
        handle.close()
        raise DataError(f"{path}: empty CSV file (no header line)")

    def rows() -> Iterator[tuple[int, dict[str, object]]]:
        with handle:
            for row in reader:
                if None in row or None in row.values():
                    raise DataError(
                        f"{path}, line {reader.line_num}: expected {len(header)} fields "
                        f"({', '.join(header)}), found a different number"
                    )
                yield reader.line_num, row

    return header, rows()


def _iter_jsonl(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, object]]]]:
    rows: list[tuple[int, dict[str, object]]] = []
    header: dict[str, None] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{path}, line {number}: not valid JSON ({err.msg})") from err
            if not isinstance(row, dict):
                raise DataError(f"{path}, line {number}: expected a JSON object, got {row!r:.60}")
            header.update(dict.fromkeys(row))
            rows.append((number, row))
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


def _class_value(value: object) -> str:
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
            extra={k: row[k] for k in c.extra if k in row},
        )

    @staticmethod
    def _text(row: Mapping[str, object], column: str | None) -> str | None:
        if column is None or _blank(row.get(column)):
            return None
        return _class_value(row[column])

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

    def _label(self, row: Mapping[str, object], where: str) -> str | None:
        column = self.columns.label
        if column is None:
            return None
        if _blank(row.get(column)):
            raise DataError(f"{where}: empty label in column {column!r}")
        value = _class_value(row[column])
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


@register_reader(
    "manifest",
    detect=lambda path: path.is_file() and path.suffix.lower() in SUFFIXES,
    description="a .csv or .jsonl manifest, one utterance per row",
)
def read_manifest(
    path: Path,
    *,
    id_column: str = "id",
    split_column: str = "split",
    text_column: str = "text",
    wav_column: str = "wav",
    start_column: str = "start",
    end_column: str = "end",
    speaker_column: str = "speaker",
    label_column: str | None = "label",
    label_map: Mapping[str, str] | None = None,
    emotion_columns: Sequence[str] | None = None,
    emotions: Sequence[str] | None = None,
    feature_prefixes: Mapping[str, str] | None = None,
    default_split: str = "train",
    test_speakers: Sequence[str] | None = None,
    valid_speakers: Sequence[str] | None = None,
    lowercase_text: bool = False,
    name: str | None = None,
) -> Corpus:
    """Read a CSV/JSONL manifest.

    Without an id column, ids are the wav file stems. Without a split column every utterance
    gets `default_split`; `test_speakers` / `valid_speakers` assign splits by speaker instead
    (they override a split column). Single-label: `label_column` (+ optional `label_map`, e.g.
    {"0": "negative", "1": "positive"}); the emotions are `emotions`, else the label_map values,
    else the sorted labels found. Multi-label: `emotion_columns`, one score column each
    (present when > 0).
    """
    path = Path(path).absolute()
    if emotion_columns is not None and label_map is not None:
        raise ConfigError("label_map applies to label_column; emotion_columns take numeric scores")
    options = ManifestOptions(
        corpus_name=name or path.stem,
        id_column=id_column,
        split_column=split_column,
        text_column=text_column,
        wav_column=wav_column,
        start_column=start_column,
        end_column=end_column,
        speaker_column=speaker_column,
        label_column=label_column,
        label_map={_class_value(k): str(v) for k, v in label_map.items()} if label_map else None,
        emotion_columns=list(emotion_columns) if emotion_columns is not None else None,
        emotions=check_emotions(emotions, str(path)),
        feature_prefixes=dict(feature_prefixes or DEFAULT_FEATURE_PREFIXES),
        default_split=default_split,
        lowercase_text=lowercase_text,
    )
    header, rows = iter_rows(path)
    columns = resolve_columns(header, str(path), options)
    parser = RowParser(path, columns, options)
    records, lines = [], []
    for line, row in rows:
        records.append(parser.parse(line, row))
        lines.append(line)
    if not records:
        raise DataError(f"{path}: manifest has a header but no utterances")
    _ensure_unique(records, lines, path)
    if test_speakers is not None or valid_speakers is not None:
        records = assign_splits_by_group(
            records, "speaker", test_speakers or (), valid_speakers or ()
        )
    task = "multilabel" if columns.emotions is not None else "singlelabel"
    return Corpus(
        name=options.corpus_name,
        records=records,
        emotions=_emotion_names(records, columns, options),
        task=task,
    )


def _ensure_unique(records: list[UtteranceRecord], lines: list[int], path: Path) -> None:
    first_line: dict[str, int] = {}
    for record, line in zip(records, lines):
        if record.id in first_line:
            raise DataError(
                f"{path}: utterance id {record.id!r} on line {line} already appears on line "
                f"{first_line[record.id]}; ids must be unique"
            )
        first_line[record.id] = line


def _emotion_names(
    records: list[UtteranceRecord], columns: Columns, options: ManifestOptions
) -> list[str]:
    if columns.emotions is not None:
        return list(columns.emotions)
    if options.emotions is not None:
        return options.emotions
    if options.label_map is not None:
        return list(dict.fromkeys(options.label_map.values()))
    return sorted({r.label for r in records if r.label is not None})
