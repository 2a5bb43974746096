"""How the probes are cross-fitted: held out the way the corpus holds out its validation data.

The out-of-fold probe logits that `train.readout_fit: stack` trains the gate on must look like
what the probes will say about a test item. A corpus that holds out speakers gets speaker-
disjoint folds. A corpus that also holds out *sentences* (its validation transcripts are not
among the training ones, while training transcripts repeat across speakers, as in the spoken
demo corpus) must get sentence-disjoint folds as well: Whisper's frames carry the words, so an
audio probe that has heard the same sentence from other speakers reads the wording back (out-
of-fold accuracy 0.66 on the demo's word-carried training utterances with speaker folds, 0.38
with speaker x sentence folds, 0.31 on the test voices and sentences; benchmarks/
cross_fit_check.py), and a gate trained on those logits learns to trust the voice where only
the words carry the emotion.

Speaker x sentence folds are a grid: speakers and sentences are each split into k groups, and
cell (i, j) is predicted by a probe fitted on the items of neither speaker group i nor sentence
group j ("cross-fitting" for two-way data). Every item is predicted exactly once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import GroupKFold

from hri_emo.data.records import UtteranceRecord

NOISY_COPY = " (noisy copy)"  # suffix of a training item's id when its audio is the noisy copy
REPEATED = 0.5  # training transcripts repeat: at least this share of items share theirs
SEEN = 0.05  # validation holds out sentences: at most this share of its items say a training one


@dataclass(frozen=True)
class FoldKey:
    """What a fold holds out with an item: its speaker, and its sentence where sentences are
    held out (None otherwise)."""

    speaker: str
    sentence: str | None = None


def sentence_of(text: str | None) -> str:
    """The transcript as a sentence key: lower case, words only."""
    return " ".join(re.findall(r"\w+", (text or "").lower()))


def holds_out_sentences(
    train: Sequence[UtteranceRecord], validation: Sequence[UtteranceRecord]
) -> bool:
    """Whether the validation split is sentence-disjoint from a training split that repeats its
    sentences (see the module docstring): the spoken demo corpus, not EmoDB or an acted corpus
    (validation says the training sentences), nor MOSI or MELD (few sentences repeat), nor
    IEMOCAP (its scripted sentences recur across sessions). False without transcripts or
    without a validation split."""
    seen = Counter(sentence_of(r.text) for r in train if r.text)
    held = [sentence_of(r.text) for r in validation if r.text]
    if not seen or not held:
        return False
    repeated = sum(n for n in seen.values() if n > 1) / sum(seen.values())
    said = sum(s in seen for s in held) / len(held)
    return repeated >= REPEATED and said <= SEEN


def training_fold_keys(datamodule) -> dict[str, FoldKey]:
    """Training item id -> its FoldKey; an item's noisy copy shares it, so no fold sees a
    held-out recording through its copy."""
    train = datamodule.records["train"]
    by_sentence = holds_out_sentences(train, datamodule.records.get("val", []))
    keys = {
        r.id: FoldKey(r.speaker or r.id, sentence_of(r.text) or r.id if by_sentence else None)
        for r in train
    }
    return keys | {item + NOISY_COPY: key for item, key in keys.items()}


def fold_splits(keys: Sequence[FoldKey], folds: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fitted rows, predicted rows) per fold: speaker-grouped k-fold, or the speaker x sentence
    grid when the keys carry sentences. Each row is predicted exactly once."""
    rows = np.arange(len(keys))
    speakers = [k.speaker for k in keys]
    if len(set(speakers)) < 2:  # one speaker: hold out items instead
        speakers = [str(row) for row in rows]
    speaker_fold = _group_folds(speakers, folds)
    if all(k.sentence is None for k in keys):
        return [(rows[speaker_fold != f], rows[speaker_fold == f]) for f in np.unique(speaker_fold)]
    sentence_fold = _group_folds([k.sentence or "" for k in keys], folds)
    splits = []
    for i in np.unique(speaker_fold):
        for j in np.unique(sentence_fold):
            held = (speaker_fold == i) & (sentence_fold == j)
            fitted = (speaker_fold != i) & ((sentence_fold != j) | (sentence_fold.max() == 0))
            if held.any() and fitted.any():
                splits.append((rows[fitted], rows[held]))
    return splits


def _group_folds(groups: list[str], folds: int) -> np.ndarray:
    """(N,) the fold of each row, its group kept whole (GroupKFold's balanced assignment); one
    fold when there is a single group (the sentence axis then holds out nothing)."""
    count = min(folds, len(set(groups)))
    fold = np.zeros(len(groups), dtype=int)
    if count < 2:
        return fold
    for index, (_, held) in enumerate(GroupKFold(count).split(groups, groups=groups)):
        fold[held] = index
    return fold
