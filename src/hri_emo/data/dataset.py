"""EmotionDataset: utterance records + feature sources -> items with features, targets and tokens.

Truncation policy (never drops an utterance):
- text longer than `max_text_len` keeps its first `max_text_len` positions and tokens. Word
  pieces beyond the limit are cut; transformer text encoders already work on a prefix.
- audio longer than `max_audio_len` frames is average-pooled in time to exactly
  `max_audio_len` frames: the T frames are split into `max_audio_len` contiguous, nearly equal
  chunks and each chunk is averaged; its frame time becomes (start of its first frame, end of
  its last). Unlike keeping a prefix this keeps cues from the whole utterance (emotion often
  shows at its end), and unlike strided subsampling it discards no frame, while the frame times
  still tell which stretch of audio each position covers (the alignment maps stay valid).

Pooled (D,) features become length-1 sequences (1, D); the single text position is labelled
with the whole transcript so that `tokens` always has one string per text position.

Conversation context (`context_turns=k` > 0): each item also carries the text features of up
to k preceding turns of its dialogue (newest first), each mean-pooled over its positions, and
whether each was said by the same speaker. Only earlier turns are used (causal). With
`context_audio` each of those turns also carries its audio features, mean-pooled the same way
(a turn without audio features gets zeros and a False flag in `context_audio_present`), and a
past turn with audio but no text features (heard, not transcribed) counts too: zeros and a
False flag in `context_text_present`, read from its voice alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from torch.utils.data import Dataset

from hri_emo.data.dialogues import past_turns, pool_turn, same_speaker
from hri_emo.data.features import MODALITIES, UtteranceFeatures, pool_audio, truncate_text
from hri_emo.data.records import TaskKind, UtteranceRecord
from hri_emo.errors import ConfigError, DataError, FeatureMismatchError


class FeatureSource(Protocol):
    """Anything that yields one modality's features for a record (a FeatureStore, or records)."""

    def get(self, record: UtteranceRecord) -> UtteranceFeatures | None: ...


class RecordFeatureSource:
    """Features precomputed inside the records themselves (`record.features[modality]`).

    When `record.words` has exactly one word per feature position (word-aligned corpora such as
    the MOSEI/MulT aligned features) the words become the tokens and their times the frame times.
    """

    def __init__(self, modality: str) -> None:
        self.modality = modality

    def has(self, record: UtteranceRecord) -> bool:
        return self.modality in record.features

    def get(self, record: UtteranceRecord) -> UtteranceFeatures | None:
        if self.modality not in record.features:
            return None
        array = np.asarray(record.features[self.modality])
        where = f"utterance {record.id!r} ({record.corpus}) {self.modality} features"
        if (
            array.ndim not in (1, 2)
            or array.shape[0] == 0
            or not np.issubdtype(array.dtype, np.number)
        ):
            raise DataError(
                f"{where}: expected (T, D) or (D,) numbers, got {array.dtype} {array.shape}"
            )
        features = array.astype(np.float32)
        if not np.isfinite(features).all():
            raise DataError(f"{where}: contain NaN/Inf values")
        words = record.words if features.ndim == 2 else None
        if words is None or len(words) != features.shape[0]:
            return UtteranceFeatures(features)
        times = np.array([[w.start, w.end] for w in words], dtype=np.float64)
        return UtteranceFeatures(features, [w.word for w in words], times)

    def __repr__(self) -> str:
        return f"RecordFeatureSource({self.modality!r})"


@dataclass
class EmotionItem:
    """One dataset item; collate_batch pads a list of these into a Batch."""

    id: str
    text: np.ndarray | None  # (Lt, Dt) float32
    audio: np.ndarray | None  # (La, Da) float32
    target: np.ndarray | None  # (E,) float32 0/1 multi-label, or () int64 class index
    intensities: np.ndarray | None  # (E,) float32 raw scores (multi-label), else None
    raw_text: str | None
    tokens: list[str] | None  # one string per text position
    frame_times: np.ndarray | None  # (La, 2) seconds, one row per audio position
    context: np.ndarray | None = None  # (K, Dt) pooled text of past turns, newest first
    context_same_speaker: np.ndarray | None = None  # (K,) bool: past turn by the same speaker
    context_ids: list[str] | None = None  # the K past turns' utterance ids
    context_audio: np.ndarray | None = None  # (K, Da) pooled audio of those turns (zeros: none)
    context_audio_present: np.ndarray | None = None  # (K,) bool: the turn has audio features
    context_text_present: np.ndarray | None = None  # (K,) bool: the turn has text (context_audio)
    word_times: np.ndarray | None = None  # (Lt, 2) seconds each word was spoken (NaN: unknown)
    audio_snr: float | None = None  # dB: +inf as recorded, finite or -inf from a noisy copy


def encode_target(record: UtteranceRecord, emotions: Sequence[str], task: TaskKind) -> np.ndarray:
    """Multi-label: (E,) float32, 1 where record.labels[e] > 0. Single-label: () int64 index."""
    if task == "singlelabel":
        if record.label is None:
            raise DataError(f"utterance {record.id!r} ({record.corpus}) has no class label")
        if record.label not in emotions:
            raise DataError(
                f"utterance {record.id!r} ({record.corpus}) has label {record.label!r}, "
                f"not one of {list(emotions)}"
            )
        return np.array(list(emotions).index(record.label), dtype=np.int64)
    if task == "multilabel":
        return (_intensities(record, emotions) > 0).astype(np.float32)
    raise ConfigError(f"task must be 'multilabel' or 'singlelabel', got {task!r}")


def _intensities(record: UtteranceRecord, emotions: Sequence[str]) -> np.ndarray:
    missing = [e for e in emotions if e not in record.labels]
    if missing:
        raise DataError(
            f"utterance {record.id!r} ({record.corpus}) has no score for {missing}; "
            f"it has {sorted(record.labels)}"
        )
    scores = np.array([record.labels[e] for e in emotions], dtype=np.float32)
    if not np.isfinite(scores).all():
        raise DataError(f"utterance {record.id!r} ({record.corpus}) has NaN/Inf label scores")
    return scores


class EmotionDataset(Dataset):
    """Records paired with text/audio feature sources, for one task over a fixed label set.

    Targets are encoded (and so validated) when the dataset is built: a record with a missing
    or unknown label raises DataError naming it. A source without an entry for a record leaves
    that modality None for the item, unless `require_all=True` (then DataError, also checked
    up front for sources with `has`). With `labelled=False` records need no labels (prediction).
    """

    def __init__(
        self,
        records: Sequence[UtteranceRecord],
        emotions: Sequence[str],
        task: TaskKind,
        text_source: FeatureSource | None = None,
        audio_source: FeatureSource | None = None,
        max_text_len: int | None = None,
        max_audio_len: int | None = None,
        *,
        require_all: bool = False,
        labelled: bool = True,
        context_turns: int = 0,
        context_audio: bool = False,
    ) -> None:
        for name, value in (("max_text_len", max_text_len), ("max_audio_len", max_audio_len)):
            if value is not None and int(value) < 1:
                raise ConfigError(f"{name} must be a positive integer or None, got {value!r}")
        self.records = list(records)
        self.emotions = list(emotions)
        self.task = task
        self.sources = {"text": text_source, "audio": audio_source}
        self.max_len = {"text": max_text_len, "audio": max_audio_len}
        self.require_all = require_all
        self.labelled = labelled
        self._targets = [self._encode(r) for r in self.records]
        self._check_sources()
        self._lengths: list[int] | None = None
        self._past = self._context_index(int(context_turns))
        self.context_audio = bool(context_audio)
        if self.context_audio and (not context_turns or audio_source is None):
            raise ConfigError(
                "context_audio reads the audio of past turns: it needs context_turns > 0 and an "
                "audio source (set data.audio_features, or data.context_audio=false to read the "
                "past turns' words only)",
                key="data.context_audio",
            )

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> EmotionItem:
        record = self.records[index]
        text = self._fetch("text", record)
        audio = self._fetch("audio", record)
        target, intensities = self._targets[index]
        return EmotionItem(
            id=record.id,
            text=None if text is None else text.features,
            audio=None if audio is None else audio.features,
            target=target,
            intensities=intensities,
            raw_text=record.text,
            tokens=None if text is None else text.tokens,
            frame_times=None if audio is None else audio.frame_times,
            word_times=None if text is None else text.frame_times,
            audio_snr=None if audio is None else self._audio_snr(record),
            **self._context(record, self._past[index]),
        )

    def _context_index(self, k: int) -> list[list[int]]:
        if k < 0:
            raise ConfigError(f"context_turns must be >= 0, got {k}", key="data.context_turns")
        if k and self.sources["text"] is None:
            raise ConfigError(
                f"context_turns={k} uses the text features of past turns, but there is no text "
                "source (set data.text_features)",
                key="data.context_turns",
            )
        return past_turns(self.records, k)

    def _context(self, record: UtteranceRecord, past: list[int]) -> dict[str, object]:
        """Pooled text features of the past turns (those with text features; with
        `context_audio` also those with audio features only), newest first, and with
        `context_audio` their pooled audio features."""
        words, same, ids, voices = [], [], [], []
        for index in past:
            previous = self.records[index]
            stored = self._fetch("text", previous)
            voice = self._fetch("audio", previous) if self.context_audio else None
            if stored is None and voice is None:
                continue
            words.append(None if stored is None else pool_turn(stored.features))
            same.append(same_speaker(previous.speaker, record.speaker))
            ids.append(previous.id)
            voices.append(None if voice is None else pool_turn(voice.features))
        if not words:
            return {}
        context = {
            "context": self._stack_turns(words, "text"),
            "context_same_speaker": np.array(same, dtype=bool),
            "context_ids": ids,
        }
        if self.context_audio:
            context |= {
                "context_audio": self._stack_turns(voices, "audio"),
                "context_audio_present": np.array([v is not None for v in voices], dtype=bool),
                "context_text_present": np.array([w is not None for w in words], dtype=bool),
            }
        return context

    def _stack_turns(self, vectors: list[np.ndarray | None], modality: str) -> np.ndarray:
        """(K, D) float32 pooled vectors of the turns, zeros for a turn without `modality`."""
        dim = next((len(v) for v in vectors if v is not None), None) or self.dim(modality)
        out = np.zeros((len(vectors), dim), dtype=np.float32)
        for row, vector in enumerate(vectors):
            if vector is not None:
                out[row] = vector
        return out

    def dim(self, modality: str) -> int | None:
        """Feature dimension of a modality (None without a source), for building a model."""
        source = self.sources[modality]
        if source is None:
            return None
        metadata = getattr(source, "metadata", None)
        if metadata is not None:
            return int(metadata.dim)
        for record in self.records:
            stored = source.get(record)
            if stored is not None:
                return int(stored.features.shape[-1])
        return None

    def lengths(self) -> list[int]:
        """Per item: text positions + audio positions after truncation (for length bucketing)."""
        if self._lengths is None:
            self._lengths = [sum(self._length(m, r) for m in MODALITIES) for r in self.records]
        return self._lengths

    def _length(self, modality: str, record: UtteranceRecord) -> int:
        source = self.sources[modality]
        if source is None:
            return 0
        if hasattr(source, "length"):
            length = source.length(record.id) if record.id in source else 0
        else:
            stored = source.get(record)
            length = 0 if stored is None else stored.length
        limit = self.max_len[modality]
        return length if limit is None else min(length, limit)

    def _encode(self, record: UtteranceRecord) -> tuple[np.ndarray | None, np.ndarray | None]:
        if not self.labelled:
            return None, None
        target = encode_target(record, self.emotions, self.task)
        intensities = _intensities(record, self.emotions) if self.task == "multilabel" else None
        return target, intensities

    def _check_sources(self) -> None:
        """Fail early: missing entries under require_all, bad or inconsistent record features."""
        for modality, source in self.sources.items():
            if source is None:
                continue
            if self.require_all and hasattr(source, "has"):
                for record in self.records:
                    if not source.has(record):
                        raise self._missing(modality, record)
            if isinstance(source, RecordFeatureSource):
                self._check_record_dims(modality, source)

    def _check_record_dims(self, modality: str, source: RecordFeatureSource) -> None:
        first: tuple[str, int] | None = None
        for record in self.records:
            stored = source.get(record)
            if stored is None:
                continue
            dim = int(stored.features.shape[-1])
            if first is None:
                first = (record.id, dim)
            elif dim != first[1]:
                raise FeatureMismatchError(
                    f"{modality} features of utterance {record.id!r} have dim {dim}, but "
                    f"utterance {first[0]!r} has dim {first[1]}"
                )

    def _audio_snr(self, record: UtteranceRecord) -> float:
        """The SNR the item's audio was read at: +inf (as recorded) unless a noisy copy says
        otherwise (data/store/mixed_source.py)."""
        snr = getattr(self.sources["audio"], "snr_of", None)
        return float("inf") if snr is None else snr(record)

    def _fetch(self, modality: str, record: UtteranceRecord) -> UtteranceFeatures | None:
        source = self.sources[modality]
        stored = None if source is None else source.get(record)
        if stored is None:
            if self.require_all and source is not None:
                raise self._missing(modality, record)
            return None
        if stored.features.ndim == 1:
            stored = _as_length_one(stored, record)
        if modality == "text":
            return truncate_text(stored, self.max_len["text"])
        return pool_audio(stored, self.max_len["audio"])

    def _missing(self, modality: str, record: UtteranceRecord) -> DataError:
        return DataError(
            f"utterance {record.id!r} ({record.corpus}) has no {modality} features in "
            f"{self.sources[modality]!r} and require_all=True"
        )


def _as_length_one(stored: UtteranceFeatures, record: UtteranceRecord) -> UtteranceFeatures:
    """A pooled (D,) vector as a (1, D) sequence whose one token is the whole transcript."""
    text = " ".join(stored.tokens) if stored.tokens else record.text
    times = stored.frame_times
    if times is not None and times.shape[0] != 1:
        times = np.array([[times[0, 0], times[-1, 1]]])
    return UtteranceFeatures(stored.features[None, :], None if text is None else [text], times)
