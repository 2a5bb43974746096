"""Plain manifests (CSV or JSONL, one utterance per row): how a team brings its own recordings.

Columns (names configurable): id, split, text, wav (relative to the manifest's folder or
absolute), start/end (seconds within the wav), speaker, dialogue and turn (conversation id and
the utterance's integer position in it; turns must increase within a dialogue); precomputed
per-utterance features as numbered columns by modality prefix (`audio_0..audio_N` ->
features["audio"], shape (N+1,));
labels as one class column (single-label) or one score column per emotion (multi-label).
Every other column is kept in `record.extra` (e.g. MOSI's video_id for group splits).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from hri_emo.data.dialogues import group_dialogues
from hri_emo.data.readers.common import check_emotions
from hri_emo.data.readers.manifest_rows import (
    Columns,
    ManifestOptions,
    RowParser,
    class_value,
    iter_rows,
)
from hri_emo.data.readers.registry import file_with_suffix, register_reader
from hri_emo.data.records import Corpus, UtteranceRecord
from hri_emo.data.splits import assign_splits_by_group
from hri_emo.errors import ConfigError, DataError

SUFFIXES = (".csv", ".jsonl")
DEFAULT_FEATURE_PREFIXES = {"audio": "audio_", "text": "text_", "vision": "vision_"}


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
        dialogue=optional(options.dialogue_column),
        turn=optional(options.turn_column),
        label=label,
        emotions=list(emotions) if emotions is not None else None,
        features={m: cols for m, cols in features.items() if cols},
    )
    used = {c for c in vars(columns).values() if isinstance(c, str)}
    used |= set(columns.emotions or []) | {c for cols in columns.features.values() for c in cols}
    columns.extra = [c for c in header if c not in used]
    return columns


@register_reader(
    "manifest",
    detect=file_with_suffix(SUFFIXES),
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
    dialogue_column: str = "dialogue",
    turn_column: str = "turn",
    label_column: str | None = "label",
    label_map: Mapping[str, str] | None = None,
    emotion_columns: Sequence[str] | None = None,
    emotions: Sequence[str] | None = None,
    feature_prefixes: Mapping[str, str] | None = None,
    default_split: str = "train",
    test_speakers: Sequence[str] | None = None,
    valid_speakers: Sequence[str] | None = None,
    lowercase_text: bool = False,
    encoding: str = "utf-8",
    name: str | None = None,
) -> Corpus:
    """Read a CSV/JSONL manifest.

    Without an id column, ids are the wav file stems. Without a split column every utterance
    gets `default_split`; `test_speakers` / `valid_speakers` assign splits by speaker instead
    (they override a split column). Single-label: `label_column` (+ optional `label_map`, e.g.
    {"0": "negative", "1": "positive"}); the emotions are `emotions`, else the label_map values,
    else the sorted labels found. Multi-label: `emotion_columns`, one score column each
    (present when > 0). `encoding`: the file's text encoding (e.g. "latin-1").
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
        dialogue_column=dialogue_column,
        turn_column=turn_column,
        label_column=label_column,
        label_map={class_value(k): str(v) for k, v in label_map.items()} if label_map else None,
        emotion_columns=list(emotion_columns) if emotion_columns is not None else None,
        emotions=check_emotions(emotions, str(path)),
        feature_prefixes=dict(feature_prefixes or DEFAULT_FEATURE_PREFIXES),
        default_split=default_split,
        lowercase_text=lowercase_text,
    )
    header, rows = iter_rows(path, encoding)
    columns = resolve_columns(header, str(path), options)
    parser = RowParser(path, columns, options)
    records, lines = [], []
    for line, row in rows:
        records.append(parser.parse(line, row))
        lines.append(line)
    if not records:
        raise DataError(f"{path}: manifest has a header but no utterances")
    _ensure_unique(records, lines, path)
    group_dialogues(records, str(path))  # DataError for a repeated turn
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
        info={"header": header, "columns": {"text": text_column, "wav": wav_column}},
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
