"""CMU-MOSEI through the CMU-MultimodalSDK computational sequences (.csd files).

Utterances are the label segments: each row k of a video's entry in the labels sequence
("All Labels", CMU_MOSEI_Labels.csd: features (n, 7) = [sentiment, happy, sad, anger,
surprise, disgust, fear], sentiment in [-3, 3], emotions 0-3) becomes the record
"<video_id>[<k>]" -- the id the SDK's `align("All Labels")` gives that segment. Video-level
sequences (words, COVAREP, ...) are cut to each segment the way the SDK aligns them.
Already aligned folders (entries "<video_id>[<k>]") are read as they are.
Splits come from the SDK's standard folds (embedded, see mosei_folds.json) or `folds=`.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

import numpy as np

from hri_emo.data.readers.common import ensure_unique_ids, log_dropped
from hri_emo.data.readers.csd import EPSILON, ComputationalSequence, decode_words, overlapping
from hri_emo.data.readers.registry import register_reader
from hri_emo.data.records import Corpus, UtteranceRecord, WordTiming
from hri_emo.errors import ConfigError, DataError

EMOTIONS = ["happy", "sad", "anger", "surprise", "disgust", "fear"]
LABEL_COLUMNS = ["sentiment", *EMOTIONS]
LABELS_ROOT = "All Labels"
SILENCE_TOKENS = ("sp",)
STANDARD_FOLDS = "mosei_folds.json"
SDK_FOLD_NAMES = {
    "train": "standard_train_fold",
    "valid": "standard_valid_fold",
    "test": "standard_test_fold",
}


def load_folds(folds: str | Path | Mapping[str, list[str]] | None) -> dict[str, str]:
    """{video id: split}. None: the SDK's standard folds shipped with this package; a path:
    a JSON file {"train": [...], "valid": [...], "test": [...]} or the SDK's own
    cmu_mosei_std_folds.py; a mapping: split name -> video ids."""
    if folds is None:
        lists = _standard_folds()
    elif isinstance(folds, Mapping):
        lists = dict(folds)
    else:
        lists = _read_folds_file(Path(folds))
    video_split: dict[str, str] = {}
    for split, videos in lists.items():
        if split == "source":
            continue
        for video in videos:
            if video_split.setdefault(str(video), split) != split:
                raise DataError(
                    f"folds: video {video!r} is in both {video_split[video]} and {split}"
                )
    return video_split


def _standard_folds() -> dict[str, list[str]]:
    """The SDK's standard CMU-MOSEI folds, shipped as package data (mosei_folds.json)."""
    try:
        text = resources.files("hri_emo.data.readers").joinpath(STANDARD_FOLDS).read_text()
    except FileNotFoundError as err:
        raise DataError(
            f"{STANDARD_FOLDS} is missing from this installation of hri_emo; pass "
            f"folds=<path to the SDK's cmu_mosei_std_folds.py or a JSON file>"
        ) from err
    return json.loads(text)


def _read_folds_file(path: Path) -> dict[str, list[str]]:
    if not path.is_file():
        raise DataError(f"folds file {path} does not exist")
    if path.suffix == ".json":
        return json.loads(path.read_text())
    assigned = {}
    for node in ast.parse(path.read_text()).body:  # literal lists only, nothing is executed
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            assigned[node.targets[0].id] = node.value
    missing = [n for n in SDK_FOLD_NAMES.values() if n not in assigned]
    if missing:
        raise DataError(f"{path}: expected the SDK's fold lists, missing {missing}")
    return {split: ast.literal_eval(assigned[n]) for split, n in SDK_FOLD_NAMES.items()}


def _find(sequences: list[ComputationalSequence], name: str, role: str) -> ComputationalSequence:
    for sequence in sequences:
        if name in sequence.names:
            return sequence
    known = sorted(s.root_name for s in sequences)
    raise DataError(f"no computational sequence named {name!r} for {role}; found {known}")


def _pick_words(sequences: list[ComputationalSequence]) -> ComputationalSequence | None:
    """The word sequence: a string-valued sequence whose name mentions "word"."""
    for sequence in sequences:
        if sequence.holds_strings() and any("word" in n.lower() for n in sequence.names):
            return sequence
    return None


def _open_sequences(path: Path, stack: ExitStack) -> list[ComputationalSequence]:
    files = [path] if path.is_file() else sorted(path.glob("*.csd"))
    if not files:
        raise DataError(f"{path}: no .csd computational sequence files")
    return [stack.enter_context(ComputationalSequence(f)) for f in files]


class SegmentCutter:
    """Cuts a (video-level or aligned) sequence to one labelled segment.

    The last entry read is kept: segments come video by video, so each video-level entry is
    read (and decompressed) once, not once per segment.
    """

    def __init__(self, sequence: ComputationalSequence) -> None:
        self.sequence = sequence
        self._cached: tuple[str, tuple[np.ndarray, np.ndarray]] | None = None

    def _entry(self, entry: str) -> tuple[np.ndarray, np.ndarray]:
        if self._cached is None or self._cached[0] != entry:
            self._cached = (entry, self.sequence.entry(entry))
        return self._cached[1]

    def rows(
        self, key: str, video: str, start: float, end: float
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(clipped intervals, feature rows) of the entry for `key` (aligned) or `video`."""
        entry = key if key in self.sequence else video
        if entry not in self.sequence:
            return None
        intervals, features = self._entry(entry)
        if entry == key:  # already aligned to this segment
            return intervals, features
        rows, clipped = overlapping(intervals, start, end)
        return clipped, features[rows]


def _words(
    cutter: SegmentCutter, key: str, video: str, span: tuple[float, float], keep: bool
) -> list[WordTiming] | None:
    """WordTimings (seconds from the segment start) of a segment, silence tokens dropped."""
    cut = cutter.rows(key, video, *span)
    if cut is None:
        return None
    intervals, features = cut
    return [
        WordTiming(word, float(s - span[0]), float(e - span[0]))
        for word, (s, e) in zip(decode_words(features), intervals)
        if keep or word not in SILENCE_TOKENS
    ]


def _segments(
    labels: ComputationalSequence, dropped: Counter[str]
) -> Iterator[tuple[str, str, int, tuple[float, float], np.ndarray]]:
    """(segment id, video id, k, (start, end), label row) for every labelled segment."""
    for key in labels.entries():
        intervals, features = labels.entry(key)
        if features.shape[1] != len(LABEL_COLUMNS):
            raise DataError(
                f"{labels.path}, entry {key!r}: expected {len(LABEL_COLUMNS)} label columns "
                f"{LABEL_COLUMNS}, found {features.shape[1]}"
            )
        video, aligned = key.split("[")[0], "[" in key
        if aligned and intervals.shape[0] != 1:
            raise DataError(
                f"{labels.path}, aligned entry {key!r}: expected one label row, "
                f"found {intervals.shape[0]}"
            )
        for k, ((start, end), row) in enumerate(zip(intervals, features)):
            if abs(end - start) < EPSILON:
                dropped["zero-length label interval"] += 1
                continue
            if aligned:  # "<video>[<k>]" as the SDK named it
                yield key, video, int(key[len(video) + 1 : -1]), (float(start), float(end)), row
            else:
                yield f"{video}[{k}]", video, k, (float(start), float(end)), row


@register_reader(
    "mosei_csd",
    detect=lambda path: (
        (path.is_file() and path.suffix == ".csd") or (path.is_dir() and any(path.glob("*.csd")))
    ),
    description="CMU-MultimodalSDK .csd files (a folder of them, or one labels file)",
)
def read_mosei_csd(
    path: Path,
    *,
    labels: str = LABELS_ROOT,
    words: str | None = None,
    features: Mapping[str, str] | None = None,
    folds: str | Mapping[str, list[str]] | None = None,
    default_split: str | None = None,
    wav_dir: str | None = None,
    keep_silence: bool = False,
    name: str = "cmu-mosei",
) -> Corpus:
    """Read CMU-MOSEI segments from computational sequences.

    labels: the labels sequence (root name, metadata root name or file stem).
    words: the word sequence (default: the string-valued sequence named like "...Words");
        gives record.words (seconds from the segment start, "sp" dropped unless keep_silence)
        and record.text.
    features: modality -> sequence, e.g. {"audio": "COVAREP", "text": "glove_vectors"}; each
        segment's rows go to record.features[modality] as (T, D) float32.
    folds: video splits (default: the SDK's standard folds); videos in no fold are left out
        and counted, unless default_split names a split for them.
    wav_dir: folder of <video_id>.wav files; records then point into them with start/end.
    """
    _check_options(features)
    with ExitStack() as stack:
        sequences = _open_sequences(Path(path), stack)
        label_seq = _find(sequences, labels, "labels")
        word_seq = _find(sequences, words, "words") if words else _pick_words(sequences)
        feature_seqs = {m: _find(sequences, n, m) for m, n in (features or {}).items()}
        video_split = load_folds(folds)
        dropped: Counter[str] = Counter()
        records = []
        cutters = {m: SegmentCutter(s) for m, s in feature_seqs.items()}
        word_cutter = SegmentCutter(word_seq) if word_seq else None
        for segment, video, k, span, row in _segments(label_seq, dropped):
            split = video_split.get(video, default_split)
            if split is None:
                dropped["video in no fold"] += 1
                continue
            record = _record(segment, video, k, span, row, split, name, wav_dir)
            _attach_streams(record, video, span, word_cutter, cutters, keep_silence)
            records.append(record)
    if not records:
        raise DataError(f"{path}: no labelled segment is in any fold ({dict(dropped)})")
    ensure_unique_ids((r.id for r in records), str(path))
    log_dropped(name, dropped)
    info = {"dropped": dict(dropped), "label_sequence": label_seq.root_name}
    return Corpus(name=name, records=records, emotions=list(EMOTIONS), task="multilabel", info=info)


def _record(
    segment: str,
    video: str,
    k: int,
    span: tuple[float, float],
    row: np.ndarray,
    split: str,
    name: str,
    wav_dir: str | None,
) -> UtteranceRecord:
    scores = {column: float(value) for column, value in zip(LABEL_COLUMNS, row)}
    return UtteranceRecord(
        id=segment,
        corpus=name,
        split=split,
        wav_path=Path(wav_dir) / f"{video}.wav" if wav_dir else None,
        start=span[0] if wav_dir else None,
        end=span[1] if wav_dir else None,
        labels=scores,
        extra={"video_id": video, "segment": k, "interval": list(span)},
    )


def _attach_streams(
    record: UtteranceRecord,
    video: str,
    span: tuple[float, float],
    word_cutter: SegmentCutter | None,
    cutters: dict[str, SegmentCutter],
    keep_silence: bool,
) -> None:
    """Cut the words and feature sequences to the record's segment and attach them."""
    if word_cutter is not None:
        record.words = _words(word_cutter, record.id, video, span, keep_silence)
        record.text = " ".join(w.word for w in record.words or []) or None
    for modality, cutter in cutters.items():
        cut = cutter.rows(record.id, video, *span)
        if cut is not None and len(cut[1]):
            record.features[modality] = np.asarray(cut[1], dtype=np.float32)  # (T, D)


def _check_options(features: Mapping[str, str] | None) -> None:
    if features is not None and not isinstance(features, Mapping):
        raise ConfigError(f"features must map modality -> sequence name, got {features!r}")
