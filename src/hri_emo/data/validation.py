"""Corpus checks a user can act on before spending hours on extraction or training.

`validate_corpus` looks for duplicate ids, missing or unreadable wav files (header only),
NaN/Inf features, feature dimensions that disagree, labels outside the corpus's label set,
empty splits and labels that an evaluation split has but training never saw. Every message
names the corpus source file and the utterance id.

    problems = validate_corpus(corpus, strict=False)   # list of Problem
    validate_corpus(corpus)                            # raises DataError listing them
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hri_emo.data.audio_header import header_problem
from hri_emo.data.records import Corpus, UtteranceRecord
from hri_emo.errors import DataError

MAX_LISTED = 20  # problems shown in a DataError message


@dataclass(frozen=True)
class Problem:
    """One finding: `kind` (e.g. "missing_wav"), the utterance (if any) and a message."""

    kind: str
    message: str
    utterance: str | None = None
    label: str | None = None  # the label at fault (unseen_label)

    def __str__(self) -> str:
        return self.message


def _source(corpus: Corpus) -> str:
    return str(corpus.info.get("source", corpus.name))


def _where(corpus: Corpus, record: UtteranceRecord) -> str:
    return f"{_source(corpus)}: utterance {record.id!r} ({record.split})"


def check_duplicate_ids(corpus: Corpus) -> list[Problem]:
    counts = Counter(r.id for r in corpus.records)
    return [
        Problem("duplicate_id", f"{_source(corpus)}: utterance id {i!r} occurs {n} times", i)
        for i, n in counts.items()
        if n > 1
    ]


def check_wav_files(corpus: Corpus) -> list[Problem]:
    """Each wav must exist and have a readable audio header with samples (cheap: no decoding;
    a file shared by several segments is opened once)."""
    problems, seen = [], {}
    for r in corpus.records:
        if r.wav_path is None:
            continue
        if not r.wav_path.is_file():
            message = f"{_where(corpus, r)}: wav file {r.wav_path} does not exist"
            problems.append(Problem("missing_wav", message, r.id))
            continue
        key = str(r.wav_path)
        if key not in seen:
            seen[key] = header_problem(r.wav_path)
        if seen[key] is not None:
            problems.append(Problem("unreadable_wav", f"{_where(corpus, r)}: {seen[key]}", r.id))
    return problems


def check_feature_values(corpus: Corpus) -> list[Problem]:
    problems = []
    for record in corpus.records:
        for modality, array in record.features.items():
            values = np.asarray(array)
            if not np.issubdtype(values.dtype, np.number):
                problems.append(
                    Problem(
                        "bad_features",
                        f"{_where(corpus, record)}: {modality} features are {values.dtype}, "
                        f"not numbers",
                        record.id,
                    )
                )
            elif not np.isfinite(values).all():
                bad = int(values.size - np.isfinite(values).sum())
                problems.append(
                    Problem(
                        "nonfinite_features",
                        f"{_where(corpus, record)}: {modality} features hold {bad} NaN/Inf "
                        f"value(s) of {values.size}",
                        record.id,
                    )
                )
    return problems


def check_feature_dims(
    corpus: Corpus, feature_dims: Mapping[str, int] | None = None
) -> list[Problem]:
    """Each modality's last dimension must agree across records (and with `feature_dims`)."""
    dims: dict[str, Counter[int]] = defaultdict(Counter)
    for record in corpus.records:
        for modality, array in record.features.items():
            if np.ndim(array) in (1, 2):
                dims[modality][np.shape(array)[-1]] += 1
    expected = dict(feature_dims or {})
    for modality, counts in dims.items():
        expected.setdefault(modality, counts.most_common(1)[0][0])
    problems = []
    for record in corpus.records:
        for modality, array in record.features.items():
            shape = np.shape(array)
            if len(shape) not in (1, 2) or shape[-1] != expected.get(modality):
                problems.append(
                    Problem(
                        "feature_dim",
                        f"{_where(corpus, record)}: {modality} features have shape {shape}, "
                        f"expected (T, D) or (D,) with D = {expected.get(modality)}",
                        record.id,
                    )
                )
    return problems


def check_labels(corpus: Corpus) -> list[Problem]:
    """Single-label: the class must be one of corpus.emotions. Multi-label: every emotion needs
    a finite score."""
    problems = []
    known = set(corpus.emotions)
    for record in corpus.records:
        if corpus.task == "singlelabel":
            if record.label is not None and record.label not in known:
                message = f"label {record.label!r} is not one of {corpus.emotions}"
            elif record.label is None and corpus.emotions:
                message = "has no label"
            else:
                continue
        else:
            missing = [e for e in corpus.emotions if e not in record.labels]
            bad = [e for e in corpus.emotions if not np.isfinite(record.labels.get(e, 0.0))]
            if not missing and not bad:
                continue
            message = f"no score for emotions {missing}" if missing else f"NaN/Inf scores {bad}"
        problems.append(Problem("label", f"{_where(corpus, record)}: {message}", record.id))
    return problems


def check_splits(corpus: Corpus, required_splits: Sequence[str] = ("train",)) -> list[Problem]:
    """The corpus and each required split must hold utterances."""
    if not corpus.records:
        return [Problem("empty_split", f"{_source(corpus)}: the corpus has no utterances")]
    present = set(corpus.splits)
    return [
        Problem(
            "empty_split",
            f"{_source(corpus)}: split {split!r} has no utterances (splits: {sorted(present)})",
        )
        for split in required_splits
        if split not in present
    ]


def _present_labels(corpus: Corpus, record: UtteranceRecord) -> list[str]:
    if corpus.task == "singlelabel":
        return [record.label] if record.label is not None else []
    return [e for e in corpus.emotions if record.labels.get(e, 0.0) > 0]


def check_unseen_labels(corpus: Corpus, train_split: str = "train") -> list[Problem]:
    """A label present in an evaluation split but never in training cannot be learned."""
    seen = {label for r in corpus.split(train_split) for label in _present_labels(corpus, r)}
    if not corpus.split(train_split):
        return []
    first: dict[tuple[str, str], UtteranceRecord] = {}
    counts: Counter[tuple[str, str]] = Counter()
    for record in corpus.records:
        if record.split == train_split:
            continue
        for label in _present_labels(corpus, record):
            if label not in seen:
                first.setdefault((record.split, label), record)
                counts[(record.split, label)] += 1
    return [
        Problem(
            "unseen_label",
            f"{_source(corpus)}: split {split!r} has {counts[split, label]} utterance(s) labelled "
            f"{label!r} (first: {record.id!r}) but {train_split!r} has none",
            record.id,
            label,
        )
        for (split, label), record in first.items()
    ]


def validate_corpus(
    corpus: Corpus,
    check_files: bool = True,
    feature_dims: Mapping[str, int] | None = None,
    required_splits: Sequence[str] = ("train",),
    strict: bool = True,
) -> list[Problem]:
    """Run every check; return the problems, or (strict) raise DataError listing them."""
    problems = [
        *check_duplicate_ids(corpus),
        *(check_wav_files(corpus) if check_files else []),
        *check_feature_values(corpus),
        *check_feature_dims(corpus, feature_dims),
        *check_labels(corpus),
        *check_splits(corpus, required_splits),
        *check_unseen_labels(corpus),
    ]
    if strict and problems:
        listed = "\n  ".join(str(p) for p in problems[:MAX_LISTED])
        more = (
            f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        )
        raise DataError(
            f"corpus {corpus.name!r} ({_source(corpus)}) has {len(problems)} problem(s):\n  "
            f"{listed}{more}"
        )
    return problems
