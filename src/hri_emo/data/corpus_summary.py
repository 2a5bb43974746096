"""A corpus at a glance: utterances per split and label, transcript lengths, audio durations,
feature dimensions and missing modalities (`hri-emo data inspect` prints this)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

import numpy as np

from hri_emo.data.audio_header import read_header
from hri_emo.data.dialogues import check_dialogues
from hri_emo.data.records import Corpus, UtteranceRecord
from hri_emo.errors import AudioError

MAX_LISTED = 20  # bad files shown by format()


def describe(values: list[float]) -> dict[str, float] | None:
    """count / min / mean / median / max of a list of numbers (None when empty)."""
    if not values:
        return None
    array = np.asarray(values, dtype=np.float64)
    return {
        "count": int(array.size),
        "min": float(array.min()),
        "mean": float(array.mean()),
        "median": float(np.median(array)),
        "max": float(array.max()),
    }


@dataclass
class CorpusSummary:
    """What `summarize_corpus` found; `to_dict()` is JSON-ready, `format()` is for people."""

    name: str
    task: str
    emotions: list[str]
    info: dict[str, object]
    utterances: int
    split_counts: dict[str, int]
    label_counts: dict[str, dict[str, int]]  # split -> label -> utterances
    speakers: int | None
    text_words: dict[str, float] | None  # words per transcript
    audio_seconds: dict[str, float] | None  # duration per utterance (wav files)
    audio_files: dict[str, int] = field(default_factory=dict)  # with_wav / missing / unreadable
    bad_audio: list[dict[str, str]] = field(default_factory=list)  # id, path, reason
    feature_dims: dict[str, dict[int, int]] = field(default_factory=dict)  # modality -> dim -> n
    missing: dict[str, int] = field(default_factory=dict)  # modality -> utterances without it
    # dialogues, turns, without_dialogue, missing_turns (count), gaps (dialogue -> missing turns)
    dialogues: dict[str, object] | None = None

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["feature_dims"] = {
            m: {str(d): n for d, n in c.items()} for m, c in self.feature_dims.items()
        }
        return data

    def format(self) -> str:
        lines = [
            f"corpus {self.name} ({self.info.get('format', '?')}: {self.info.get('source', '?')})",
            f"task {self.task}, {len(self.emotions)} labels: {', '.join(self.emotions)}",
            f"utterances {self.utterances}"
            + (f", speakers {self.speakers}" if self.speakers is not None else ""),
        ]
        for split, count in self.split_counts.items():
            labels = ", ".join(f"{k} {v}" for k, v in self.label_counts.get(split, {}).items())
            lines.append(f"  {split:<10} {count:>7}   {labels}")
        lines.append("text words   " + _stats_line(self.text_words))
        lines.append("audio sec.   " + _stats_line(self.audio_seconds))
        if self.audio_files:
            lines.append(
                "audio files  " + ", ".join(f"{k} {v}" for k, v in self.audio_files.items())
            )
        for bad in self.bad_audio[:MAX_LISTED]:
            lines.append(f"  {bad['id']!r}: {bad['reason']}")
        if len(self.bad_audio) > MAX_LISTED:
            lines.append(f"  ... and {len(self.bad_audio) - MAX_LISTED} more (see --json)")
        for modality, dims in self.feature_dims.items():
            shown = ", ".join(f"dim {d}: {n}" for d, n in dims.items())
            lines.append(f"features     {modality}: {shown}")
        lines.append("missing      " + ", ".join(f"{m} {n}" for m, n in self.missing.items()))
        if self.dialogues:
            d, gaps = self.dialogues, self.dialogues["gaps"]
            shown = "; ".join(f"{k}: {v}" for k, v in list(gaps.items())[:5])
            lines.append(
                f"dialogues    {d['dialogues']} ({d['turns']} turns, {d['without_dialogue']} "
                f"utterances without a dialogue), {d['missing_turns']} missing turns in "
                f"{len(gaps)} dialogues"
                + (f" ({shown}{', ...' if len(gaps) > 5 else ''})" if gaps else "")
            )
        dropped = self.info.get("dropped")
        if dropped:
            lines.append(f"left out     {dropped}")
        return "\n".join(lines)


def _stats_line(stats: dict[str, float] | None) -> str:
    if stats is None:
        return "-"
    return (
        f"n {stats['count']}, min {stats['min']:.1f}, mean {stats['mean']:.1f}, "
        f"median {stats['median']:.1f}, max {stats['max']:.1f}"
    )


def _labels_of(corpus: Corpus, records: list[UtteranceRecord]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for record in records:
        if corpus.task == "singlelabel":
            counts[record.label if record.label is not None else "(none)"] += 1
        else:
            counts.update(e for e in corpus.emotions if record.labels.get(e, 0.0) > 0)
    ordered = [e for e in corpus.emotions if e in counts]
    ordered += sorted(set(counts) - set(corpus.emotions))
    return {k: counts[k] for k in ordered}


def audio_durations(
    records: list[UtteranceRecord],
    max_files: int | None = None,
    bad: list[dict[str, str]] | None = None,
) -> tuple[list[float], dict[str, int]]:
    """(seconds per utterance, file counts) read cheaply from wav headers (soundfile.info);
    each missing or unreadable file is appended to `bad` as {"id", "path", "reason"}."""
    seconds: list[float] = []
    files: Counter[str] = Counter()
    cache: dict[str, float | str] = {}
    for record in records:
        if record.wav_path is None:
            continue
        files["with_wav"] += 1
        key = str(record.wav_path)
        if key not in cache:
            if max_files is not None and len(cache) >= max_files:
                files["not_read"] += 1
                continue
            cache[key] = _file_seconds(record)
        total = cache[key]
        if isinstance(total, str):
            files["missing" if not record.wav_path.is_file() else "unreadable"] += 1
            if bad is not None:
                bad.append({"id": record.id, "path": key, "reason": total})
            continue
        start = record.start or 0.0
        end = record.end if record.end is not None else total
        seconds.append(end - start)
    return seconds, dict(files)


def _file_seconds(record: UtteranceRecord) -> float | str:
    """The file's duration, or why it cannot be read."""
    try:
        return float(read_header(record.wav_path).duration)
    except AudioError as err:
        return str(err)


def summarize_corpus(
    corpus: Corpus, audio_stats: bool = True, max_audio_files: int | None = None
) -> CorpusSummary:
    """Count and describe the corpus; wav headers are read only when `audio_stats`."""
    by_split: dict[str, list[UtteranceRecord]] = defaultdict(list)
    for record in corpus.records:
        by_split[record.split].append(record)
    dims: dict[str, Counter[int]] = defaultdict(Counter)
    for record in corpus.records:
        for modality, array in record.features.items():
            dims[modality][int(np.shape(array)[-1]) if np.ndim(array) else 0] += 1
    bad: list[dict[str, str]] = []
    seconds, files = ([], {})
    if audio_stats:
        seconds, files = audio_durations(corpus.records, max_audio_files, bad)
    speakers = {r.speaker for r in corpus.records if r.speaker is not None}
    return CorpusSummary(
        name=corpus.name,
        task=corpus.task,
        emotions=list(corpus.emotions),
        info=dict(corpus.info),
        utterances=len(corpus.records),
        split_counts={s: len(by_split[s]) for s in sorted(by_split)},
        label_counts={s: _labels_of(corpus, by_split[s]) for s in sorted(by_split)},
        speakers=len(speakers) if speakers else None,
        text_words=describe([len(r.text.split()) for r in corpus.records if r.text]),
        audio_seconds=describe(seconds),
        audio_files=files,
        bad_audio=bad,
        feature_dims={m: dict(sorted(c.items())) for m, c in sorted(dims.items())},
        missing=_missing_modalities(corpus.records),
        dialogues=_dialogues(corpus),
    )


def _dialogues(corpus: Corpus) -> dict[str, object] | None:
    """Dialogue counts and missing turns (None when no utterance has a dialogue)."""
    source = str(corpus.info.get("source", corpus.name))
    summary = check_dialogues(corpus.records, source, corpus.info.get("first_turn"))
    if not summary.dialogues:
        return None
    return {
        "dialogues": summary.dialogues,
        "turns": summary.turns,
        "without_dialogue": summary.without_dialogue,
        "missing_turns": summary.missing_count,
        "gaps": summary.missing_turns,
    }


def _missing_modalities(records: list[UtteranceRecord]) -> dict[str, int]:
    """Utterances with neither a transcript nor text features, neither a wav nor audio features."""
    return {
        "text": sum(not r.text and "text" not in r.features for r in records),
        "audio": sum(r.wav_path is None and "audio" not in r.features for r in records),
    }
