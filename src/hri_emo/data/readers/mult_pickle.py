"""The processed pickles that MulT and MMSA distribute.

Both are {"train": split, "valid": split, "test": split} with padded (N, L, D) arrays.

MulT (yaohungt/Multimodal-Transformer, src/dataset.py; mosei_senti_data.pkl, iemocap_data.pkl,
*_noalign.pkl): split = {"text", "audio", "vision", "labels", "id"(optional)}.
  labels (N, 1, 1): sentiment score in [-3, 3] (MOSI, MOSEI) -> binary sentiment classes;
  labels (N, 4, 2): IEMOCAP, one (absent, present) one-hot pair per emotion in MulT's order
    [neutral, happy, sad, angry] -> multi-label 0/1 scores (each utterance has exactly one);
  id (N, 3): [video id, start, end] -> record id "<video>@<start>-<end>".
  No lengths: padding rows are all zeros (the SDK pads on the left), stripped when
  trim_zero_padding (aligned arrays share the text's span).
MMSA (thuiar/MMSA src/MMSA/data_loader.py, MMSA-FET; aligned_50.pkl, unaligned_50.pkl):
  split = {"raw_text", "text", "text_bert", "audio", "vision", "id" ("video$_$clip"),
  "regression_labels", "classification_labels"(old), "audio_lengths", "vision_lengths", ...}.
  Sentiment only: regression_labels in [-3, 3] -> binary classes. Text length is the BERT
  attention mask (text_bert[:, 1]); audio/vision lengths from *_lengths (unaligned) or the
  text length (aligned). Padding is at the end.
Both loaders set audio -inf to 0; so does this reader. Sentiment scores stay in
record.labels["sentiment"]; the class follows `sentiment_binary`: "has0" negative (< 0) vs
non-negative, or "non0" negative vs positive (score 0 left out and counted).
Pickles can run code when loaded: read only files you trust.
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from hri_emo.data.readers.common import (
    check_emotions,
    ensure_unique_ids,
    log_dropped,
    sentiment_classes,
    sentiment_label,
    text_of,
)
from hri_emo.data.readers.registry import file_with_suffix, register_reader
from hri_emo.data.records import Corpus, UtteranceRecord
from hri_emo.errors import ConfigError, DataError

MODALITIES = ("text", "audio", "vision")
MULT_IEMOCAP_EMOTIONS = ["neutral", "happy", "sad", "angry"]
SUFFIXES = (".pkl", ".pickle")


def _load(path: Path) -> dict[str, Mapping]:
    with path.open("rb") as handle:
        try:
            data = pickle.load(handle)
        except Exception as err:
            raise DataError(f"{path}: cannot unpickle ({type(err).__name__}: {err})") from err
    splits = (
        {k: v for k, v in data.items() if isinstance(v, Mapping)} if isinstance(data, dict) else {}
    )
    if not splits:
        found = list(data) if isinstance(data, dict) else type(data).__name__
        raise DataError(
            f"{path}: expected a dict of splits (train/valid/test) -> dict, found {found}"
        )
    return splits


def _layout(split: Mapping, where: str) -> str:
    if "regression_labels" in split:
        return "mmsa"
    if "labels" in split:
        return "mult"
    raise DataError(
        f"{where}: neither 'labels' (MulT) nor 'regression_labels' (MMSA) among keys {list(split)}"
    )


def _nonzero_span(sequence: np.ndarray) -> slice | None:
    """The rows between the first and last row that is not all zeros; None if all are."""
    rows = np.flatnonzero(np.any(sequence != 0, axis=tuple(range(1, sequence.ndim))))
    return slice(rows[0], rows[-1] + 1) if rows.size else None


class SplitArrays:
    """One split's arrays, checked for a common utterance count N."""

    def __init__(self, split: Mapping, where: str, modalities: Sequence[str]) -> None:
        self.split, self.where = split, where
        labels = split["regression_labels"] if "regression_labels" in split else split["labels"]
        self.labels = np.asarray(labels)
        self.size = len(self.labels)
        self.features = {}
        for modality in modalities:
            if modality not in split:
                continue
            array = np.asarray(split[modality], dtype=np.float32)  # (N, L, D)
            if array.ndim != 3 or array.shape[0] != self.size:
                raise DataError(
                    f"{where}: {modality!r} must be (N, L, D) with N = {self.size} labels, "
                    f"found {array.shape}"
                )
            if modality == "audio":
                array[np.isneginf(array)] = 0.0
            self.features[modality] = array
        self.lengths = {m: self._lengths(m) for m in self.features}

    def _lengths(self, modality: str) -> np.ndarray | None:
        """Per-utterance lengths when the pickle gives them (MMSA)."""
        key = f"{modality}_lengths"
        if key in self.split:
            return np.asarray(self.split[key], dtype=np.int64)
        text_len = self._text_lengths()
        if (
            text_len is not None
            and self.features[modality].shape[1] == self.features["text"].shape[1]
        ):
            return text_len  # aligned: every modality follows the text positions
        return None

    def _text_lengths(self) -> np.ndarray | None:
        bert = self.split.get("text_bert")
        if bert is None or "text" not in self.features:
            return None
        bert = np.asarray(bert)
        if bert.ndim != 3 or bert.shape[1] != 3 or bert.shape[2] != self.features["text"].shape[1]:
            return None
        return bert[:, 1].sum(axis=1).astype(np.int64)  # attention mask: real tokens

    def _aligned_without_lengths(self) -> bool:
        """Every modality on the text's positions, no lengths given (MulT aligned pickles)."""
        same_length = len({a.shape[1] for a in self.features.values()}) == 1
        return "text" in self.features and self.lengths["text"] is None and same_length

    def features_of(self, index: int, trim: bool) -> dict[str, np.ndarray]:
        """Unpadded (T, D) arrays of one utterance; modalities that are all padding are left out."""
        out = {}
        aligned_span = None
        if trim and self._aligned_without_lengths():
            aligned_span = _nonzero_span(self.features["text"][index])
        for modality, array in self.features.items():
            lengths = self.lengths[modality]
            if lengths is not None:
                span = slice(0, int(lengths[index]))
            elif trim:
                span = aligned_span or _nonzero_span(array[index])
            else:
                span = slice(None)
            sequence = array[index][span] if span is not None else array[index][:0]
            if len(sequence):
                out[modality] = sequence
        return out


def _mult_ids(split: Mapping, size: int, split_name: str) -> list[tuple[str, dict]]:
    """(record id, extra) per utterance from MulT's optional (N, 3) [video, start, end] ids."""
    if "id" not in split:
        return [(f"{split_name}-{i}", {}) for i in range(size)]
    ids = []
    for entry in split["id"]:
        parts = [text_of(p) for p in np.atleast_1d(entry)]
        if len(parts) >= 3:
            video, start, end = parts[:3]
            ids.append((f"{video}@{start}-{end}", {"video_id": video, "start": start, "end": end}))
        else:
            ids.append((parts[0], {"video_id": parts[0]}))
    return ids


def _unique(
    ids: list[tuple[str, dict]], seen: Counter[str], renamed: Counter[str]
) -> list[tuple[str, dict]]:
    """Make derived ids unique across splits by appending #2, #3, ... (counted in `renamed`)."""
    out = []
    for utt_id, extra in ids:
        seen[utt_id] += 1
        if seen[utt_id] > 1:
            renamed["duplicate id"] += 1
            utt_id = f"{utt_id}#{seen[utt_id]}"
        out.append((utt_id, extra))
    return out


def _mmsa_ids(split: Mapping, size: int) -> list[tuple[str, dict]]:
    ids = []
    for entry in split.get("id", [f"{i}" for i in range(size)]):
        utt_id = text_of(entry)
        video, _, clip = utt_id.partition("$_$")
        ids.append((utt_id, {"video_id": video, "clip_id": clip} if clip else {"video_id": video}))
    return ids


class LabelScheme:
    """Turns one utterance's label array into (label, labels) for the chosen task."""

    def __init__(
        self, labels: np.ndarray, emotions: list[str] | None, task: str | None, binary: str
    ) -> None:
        self.shape = labels.shape[1:]  # per utterance: (1, 1) / (1,) / () or (E, 2)
        self.pairs = len(self.shape) == 2 and self.shape[1] == 2 and self.shape[0] > 1
        if not self.pairs and int(np.prod(self.shape)) != 1:
            raise DataError(
                f"labels per utterance have shape {self.shape}; expected one sentiment score "
                f"or (E, 2) (absent, present) emotion pairs"
            )
        if self.pairs:
            count = labels.shape[1]
            default = MULT_IEMOCAP_EMOTIONS if count == 4 else None
            self.emotions = emotions or default
            if self.emotions is None or len(self.emotions) != count:
                raise ConfigError(
                    f"labels hold {count} (absent, present) pairs; pass emotions=[...] "
                    f"with {count} names (got {emotions})"
                )
            self.task = task or "multilabel"
        else:
            if emotions is not None:
                raise ConfigError(
                    "emotions= names (absent, present) label pairs; sentiment labels take "
                    "sentiment_binary='has0' or 'non0'"
                )
            self.emotions = sentiment_classes(binary)
            self.task = task or "singlelabel"
            if self.task != "singlelabel":
                raise ConfigError("sentiment labels give a single-label task")
        self.binary = binary

    def check(self, labels: np.ndarray, where: str) -> None:
        """Every split must hold labels of the same kind as the first one."""
        if labels.shape[1:] != self.shape:
            raise DataError(
                f"{where}: labels per utterance have shape {labels.shape[1:]}, "
                f"other splits {self.shape}"
            )

    def __call__(self, row: np.ndarray, where: str) -> tuple[str | None, dict[str, float]] | None:
        if not self.pairs:
            score = float(np.asarray(row).reshape(-1)[0])
            label = sentiment_label(score, self.binary)
            return None if label is None else (label, {"sentiment": score})
        present = np.asarray(row).argmax(axis=-1)  # (E,) 1 where the pair says "present"
        scores = {e: float(p) for e, p in zip(self.emotions, present)}
        named = [e for e, p in zip(self.emotions, present) if p == 1]
        if self.task == "singlelabel" and len(named) != 1:
            raise DataError(f"{where}: single-label task needs exactly one emotion, found {named}")
        return (named[0] if len(named) == 1 else None), scores


def _split_ids(
    layout: str, split: Mapping, size: int, name: str, counts: dict[str, Counter[str]]
) -> list[tuple[str, dict]]:
    if layout == "mmsa":
        return _mmsa_ids(split, size)
    return _unique(_mult_ids(split, size, name), counts["seen"], counts["renamed"])


def _read_split(
    split_name: str,
    split: Mapping,
    layout: str,
    arrays: SplitArrays,
    scheme: LabelScheme,
    options: dict,
    counts: dict[str, Counter[str]],
) -> list[UtteranceRecord]:
    texts = split.get("raw_text")
    records = []
    for index, (utt_id, extra) in enumerate(
        _split_ids(layout, split, arrays.size, split_name, counts)
    ):
        labelled = scheme(arrays.labels[index], f"{arrays.where} utterance {utt_id!r}")
        if labelled is None:
            counts["dropped"]["sentiment score 0 (sentiment_binary='non0')"] += 1
            continue
        label, scores = labelled
        records.append(
            UtteranceRecord(
                id=utt_id,
                corpus=options["name"],
                split=split_name,
                text=text_of(texts[index]).strip() if texts is not None else None,
                label=label,
                labels=scores,
                features=arrays.features_of(index, options["trim"]),
                extra={**extra, "layout": layout},
            )
        )
    return records


@register_reader(
    "mult_pickle",
    detect=file_with_suffix(SUFFIXES),
    description="a MulT (*_data.pkl) or MMSA (aligned_50.pkl / unaligned_50.pkl) pickle",
)
def read_mult_pickle(
    path: Path,
    *,
    emotions: Sequence[str] | None = None,
    task: str | None = None,
    sentiment_binary: str = "has0",
    modalities: Sequence[str] = MODALITIES,
    trim_zero_padding: bool = True,
    name: str | None = None,
) -> Corpus:
    """Read a MulT or MMSA pickle (layout detected from the keys).

    Features go to record.features["text"/"audio"/"vision"] as (T, D) float32 with padding
    removed; MMSA's raw_text becomes record.text. See the module docstring for the labels.
    """
    path = Path(path)
    options = {"name": name or path.stem, "trim": trim_zero_padding}
    if task not in (None, "multilabel", "singlelabel"):
        raise ConfigError(f"task must be 'multilabel' or 'singlelabel', got {task!r}")
    emotion_names = check_emotions(emotions, str(path))
    counts: dict[str, Counter[str]] = {
        "dropped": Counter(),
        "renamed": Counter(),
        "seen": Counter(),
    }
    scheme, records = None, []
    for split_name, split in _load(path).items():
        where = f"{path} [{split_name!r}]"
        layout = _layout(split, where)
        arrays = SplitArrays(split, where, modalities)
        scheme = scheme or LabelScheme(arrays.labels, emotion_names, task, sentiment_binary)
        scheme.check(arrays.labels, where)
        records += _read_split(split_name, split, layout, arrays, scheme, options, counts)
    ensure_unique_ids((r.id for r in records), str(path))
    log_dropped(options["name"], counts["dropped"])
    info = {"dropped": dict(counts["dropped"]), "renamed_ids": sum(counts["renamed"].values())}
    return Corpus(
        name=options["name"],
        records=records,
        emotions=list(scheme.emotions),
        task=scheme.task,
        info=info,
    )
