"""Speaker-independent split helpers: group-wise validation carving, leave-one-session-out,
and k folds of held-out speakers.

Every helper works on whole groups (speaker, video, session), never on single utterances, so
no speaker or video is in two splits; each returns a new Corpus and leaves its input unchanged.

Example (EmoDB, 5 folds of 2 held-out speakers, validation carved from training speakers):
    >>> folds = group_folds(["03", "08", "09", "10", "11", "12", "13", "14", "15", "16"], 5)
    >>> folds[0], folds[4]
    (['03', '08'], ['15', '16'])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import numpy as np
from sklearn.model_selection import GroupShuffleSplit

from hri_emo.data.records import Corpus, UtteranceRecord
from hri_emo.errors import ConfigError, DataError

_RECORD_FIELDS = {f.name for f in dataclasses.fields(UtteranceRecord)}


def group_of(record: UtteranceRecord, group_by: str) -> str:
    """The record's group: an attribute ("speaker") or a key of `record.extra` ("video_id")."""
    value = getattr(record, group_by, None) if group_by in _RECORD_FIELDS else None
    if value is None:
        value = record.extra.get(group_by)
    if value is None:
        raise DataError(
            f"utterance {record.id!r} ({record.corpus}) has no {group_by!r} "
            f"(neither a record field nor a key of record.extra) to group by"
        )
    return str(value)


def with_splits(corpus: Corpus, records: list[UtteranceRecord]) -> Corpus:
    """A copy of `corpus` holding `records` (its info is copied too)."""
    return dataclasses.replace(corpus, records=records, info=dict(corpus.info))


def assign_splits_by_group(
    records: Sequence[UtteranceRecord],
    group_by: str,
    test_groups: Iterable[object],
    valid_groups: Iterable[object] = (),
    rest: str = "train",
) -> list[UtteranceRecord]:
    """New records whose split is "test" / "valid" for the named groups and `rest` otherwise.

    Raises DataError when a named group has no utterance, or a group is named twice.
    """
    test, valid = {str(g) for g in test_groups}, {str(g) for g in valid_groups}
    if test & valid:
        raise ConfigError(f"groups {sorted(test & valid)} are named for both test and valid")
    known = {group_of(r, group_by) for r in records}
    unknown = sorted((test | valid) - known)
    if unknown:
        raise DataError(
            f"{group_by} value(s) {unknown} have no utterances; known {group_by}s: {sorted(known)}"
        )

    def split_of(record: UtteranceRecord) -> str:
        group = group_of(record, group_by)
        return "test" if group in test else "valid" if group in valid else rest

    return [dataclasses.replace(r, split=split_of(r)) for r in records]


def carve_validation(
    corpus: Corpus,
    group_by: str,
    fraction: float = 0.1,
    seed: int = 0,
    source: str = "train",
    target: str = "valid",
) -> Corpus:
    """Move about `fraction` of the `source` split's groups into a new `target` split.

    Only the source split (train) is touched, never test; the draw is deterministic for a
    seed (sklearn GroupShuffleSplit, `fraction` of the groups, at least one group).
    """
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"fraction must be in (0, 1), got {fraction}")
    if corpus.split(target):
        raise DataError(
            f"corpus {corpus.name!r} already has a {target!r} split "
            f"({len(corpus.split(target))} utterances); not carving another"
        )
    pool = [i for i, r in enumerate(corpus.records) if r.split == source]
    groups = [group_of(corpus.records[i], group_by) for i in pool]
    if len(set(groups)) < 2:
        raise DataError(
            f"corpus {corpus.name!r}: cannot carve {target!r} out of {source!r} by {group_by!r}: "
            f"{source!r} has {len(set(groups))} group(s), need at least 2"
        )
    splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    _, held_out = next(splitter.split(np.zeros(len(pool)), groups=groups))
    moved = {pool[i] for i in held_out}
    records = [
        dataclasses.replace(r, split=target) if i in moved else r
        for i, r in enumerate(corpus.records)
    ]
    return with_splits(corpus, records)


def leave_one_session_out(
    corpus: Corpus, test_session: int, valid_session: int | None = None
) -> Corpus:
    """IEMOCAP-style folds: `test_session` -> "test", `valid_session` -> "valid", rest "train".

    Sessions come from `record.extra["session"]` (the IEMOCAP reader sets it).
    """
    valid = [] if valid_session is None else [valid_session]
    records = assign_splits_by_group(corpus.records, "session", [test_session], valid)
    return with_splits(corpus, records)


def group_folds(groups: Iterable[object], n_folds: int, seed: int | None = None) -> list[list[str]]:
    """Split the distinct groups into `n_folds` folds of (nearly) equal group count.

    Sorted order by default (EmoDB's 10 speakers -> 5 folds of 2 consecutive speakers); a seed
    shuffles the groups first.
    """
    distinct = sorted({str(g) for g in groups})
    if not 2 <= n_folds <= len(distinct):
        raise ConfigError(f"n_folds must be in [2, {len(distinct)}] (the groups), got {n_folds}")
    if seed is not None:
        distinct = list(np.random.default_rng(seed).permutation(distinct))
    return [list(map(str, chunk)) for chunk in np.array_split(np.array(distinct), n_folds)]


def speaker_fold(
    corpus: Corpus,
    fold: int,
    n_folds: int = 5,
    group_by: str = "speaker",
    seed: int | None = None,
) -> Corpus:
    """Fold `fold` of `n_folds`: its groups become "test", every other utterance "train"."""
    folds = group_folds((group_of(r, group_by) for r in corpus.records), n_folds, seed)
    if not 0 <= fold < n_folds:
        raise ConfigError(f"fold must be in [0, {n_folds - 1}], got {fold}")
    records = assign_splits_by_group(corpus.records, group_by, folds[fold])
    return with_splits(corpus, records)
