"""The one utterance record type every corpus reader produces, and the corpus that holds them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

TaskKind = Literal["multilabel", "singlelabel"]


@dataclass
class WordTiming:
    """One word of the transcript with its start and end time in seconds."""

    word: str
    start: float
    end: float


@dataclass
class UtteranceRecord:
    """One utterance, whatever corpus it came from.

    `labels` maps each label name to a score: for multi-label corpora (CMU-MOSEI) the emotion
    intensity (present when > 0); for single-label corpora the one categorical class is in
    `label` and `labels` may carry extra scores (IEMOCAP's valence/arousal/dominance).
    `features` holds precomputed features by modality name ("audio", "text", "vision"),
    each (T, D) for a sequence or (D,) for a pooled vector.
    `dialogue` and `turn` place the utterance in a conversation (turn = its index within the
    dialogue, 0-based or any increasing integers), where the corpus has them.
    """

    id: str
    corpus: str
    split: str
    text: str | None = None
    speaker: str | None = None
    wav_path: Path | None = None
    start: float | None = None  # segment start within wav_path, seconds
    end: float | None = None  # segment end within wav_path, seconds
    label: str | None = None
    labels: dict[str, float] = field(default_factory=dict)
    features: dict[str, np.ndarray] = field(default_factory=dict)
    words: list[WordTiming] | None = None
    dialogue: str | None = None
    turn: int | None = None
    extra: dict[str, object] = field(default_factory=dict)


@dataclass
class Corpus:
    """Records of one corpus plus the label set and task kind that give them meaning.

    `info` is the reader's summary: "source" (path read), "format", and "dropped" (how many
    utterances were left out, by reason, e.g. {"label 'xxx'": 2507}).
    """

    name: str
    records: list[UtteranceRecord]
    emotions: list[str]
    task: TaskKind
    info: dict[str, object] = field(default_factory=dict)

    def split(self, name: str) -> list[UtteranceRecord]:
        """Records of one split (for example "train", "valid", "test")."""
        return [r for r in self.records if r.split == name]

    @property
    def splits(self) -> list[str]:
        return sorted({r.split for r in self.records})

    def label_counts(self, split: str | None = None) -> Counter[str]:
        """How often each label occurs (present labels for multi-label, the class otherwise)."""
        counts: Counter[str] = Counter()
        for r in self.records if split is None else self.split(split):
            if self.task == "singlelabel":
                if r.label is not None:
                    counts[r.label] += 1
            else:
                counts.update(e for e in self.emotions if r.labels.get(e, 0.0) > 0)
        return counts
