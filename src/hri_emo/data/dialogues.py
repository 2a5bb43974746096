"""Dialogue structure of a corpus: checking turn order and finding each turn's past context.

A record belongs to a conversation when it has `dialogue` (an id) and `turn` (its position).
Within a dialogue the turn index gives the order (not the file's), each turn once: a repeated
turn is a DataError naming the dialogue. Gaps in the numbering (a turn the corpus left out) are
allowed and counted, so `data inspect` can report them; context then just skips the gap.

`pool_turn` and `same_speaker` are the one definition of a past turn as the model reads it:
training (data/dataset.py) and the recognizer's dialogue state (inference/dialogue.py) use both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from hri_emo.data.records import UtteranceRecord
from hri_emo.errors import ConfigError, DataError


@dataclass
class DialogueSummary:
    """How many dialogues and turns a corpus has, and which dialogues miss turns."""

    dialogues: int = 0
    turns: int = 0  # records with a dialogue
    without_dialogue: int = 0  # records with no dialogue id
    missing_turns: dict[str, list[int]] = field(default_factory=dict)  # dialogue -> gaps

    @property
    def missing_count(self) -> int:
        return sum(len(gaps) for gaps in self.missing_turns.values())


def group_dialogues(
    records: Sequence[UtteranceRecord], source: str = "corpus"
) -> dict[str, list[int]]:
    """dialogue -> indices of its records in turn order (the `turn` index decides, not the
    order of the file: CMU-MOSI's CSV lists segment 10 before segment 2); DataError for a turn
    without an index or one that repeats."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        if record.dialogue is None:
            continue
        if record.turn is None:
            raise DataError(
                f"{source}: utterance {record.id!r} of dialogue {record.dialogue!r} "
                "has no turn index"
            )
        groups[record.dialogue].append(index)
    for dialogue, indices in groups.items():
        indices.sort(key=lambda i: records[i].turn)  # stable: a repeat keeps file order
        for before, after in pairwise(indices):
            if records[before].turn == records[after].turn:
                raise DataError(
                    f"{source}: dialogue {dialogue!r} has turn {records[after].turn} twice "
                    f"(utterances {records[before].id!r} and {records[after].id!r})"
                )
    return dict(groups)


def check_dialogues(
    records: Sequence[UtteranceRecord], source: str = "corpus", first_turn: int | None = None
) -> DialogueSummary:
    """Validate turn order (DataError) and summarise dialogues and their missing turns.

    A dialogue misses turn t when it has a later turn but not t, counting from `first_turn`
    (None: from the dialogue's first turn, so 0- and 1-based numbering both work).
    """
    groups = group_dialogues(records, source)
    summary = DialogueSummary(
        dialogues=len(groups),
        turns=sum(len(g) for g in groups.values()),
        without_dialogue=sum(r.dialogue is None for r in records),
    )
    for dialogue, indices in groups.items():
        turns = {records[i].turn for i in indices}
        start = min(turns) if first_turn is None else min(first_turn, *turns)
        gaps = sorted(set(range(start, max(turns) + 1)) - turns)
        if gaps:
            summary.missing_turns[dialogue] = gaps
    return summary


def past_turns(
    records: Sequence[UtteranceRecord], k: int, source: str = "corpus"
) -> list[list[int]]:
    """For each record, the indices of up to `k` preceding turns of its dialogue, newest first.

    Causal by construction: only turns with a smaller turn index are ever listed. ConfigError
    when no record has a dialogue (context needs dialogue ids and turns).
    """
    if k < 1:
        return [[] for _ in records]
    if not any(r.dialogue is not None for r in records):
        raise ConfigError(
            f"{source}: context_turns={k} needs dialogue ids and turn indices, but no utterance "
            "has a dialogue (manifests: add `dialogue` and `turn` columns; or set "
            "data.context_turns=0)",
            key="data.context_turns",
        )
    context: list[list[int]] = [[] for _ in records]
    for indices in group_dialogues(records, source).values():
        for position, index in enumerate(indices):
            context[index] = indices[max(0, position - k) : position][::-1]
    return context


def pool_turn(features: np.ndarray) -> np.ndarray:
    """(L, Dt) model-ready text features of a turn -> its (Dt,) context vector: the mean over
    its positions (after standardisation and truncation)."""
    array = np.asarray(features)
    return array.reshape(-1, array.shape[-1]).mean(axis=0).astype(np.float32)


def same_speaker(past: str | None, current: str | None) -> bool:
    """Whether a past turn was said by the current speaker (unknown speakers never match)."""
    return past is not None and past == current
