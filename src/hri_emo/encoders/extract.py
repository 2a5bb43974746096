"""Run an encoder over a corpus into a FeatureStore: batched, resumable, with a skip report.

- Resumable: utterances already in the store are not encoded again (the store is crash-safe,
  so after a kill the rerun redoes only what was not committed).
- Missing input (no transcript / blank transcript for text, no wav path for audio) is not an
  error: the utterance is left out of the store, which the dataset reads as "modality missing",
  and is listed under "missing" in the report.
- Bad input (unreadable or silent audio, ...) stops the run with an error naming the utterance
  (`on_error="fail"`), or is left out and listed under "failed" (`on_error="skip"`).
- The report is written next to the store as `<store>.skipped.json` whenever something was left
  out, or always with `on_error="skip"`.
- Word times (text stores, `word_timer`): when each word was spoken in the record's recording,
  stored as the item's `frame_times` (NaN rows for words that could not be placed); the time
  prior of the model reads them (model/time_prior.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
from tqdm.auto import tqdm

from hri_emo.data.features import flatten_layers
from hri_emo.data.records import Corpus, UtteranceRecord
from hri_emo.encoders.audio_io import load_audio
from hri_emo.encoders.base import AudioEncoder, TextEncoder
from hri_emo.errors import ConfigError, DataError, FeatureMismatchError, HriEmoError

logger = logging.getLogger(__name__)
OnError = Literal["fail", "skip"]
WordTimer = Callable[[np.ndarray, list[str]], np.ndarray]  # (wave, words) -> (W, 2) seconds
# Errors of one utterance that `on_error="skip"` records instead of stopping the run.
SKIPPABLE = (HriEmoError, RuntimeError)


@dataclass
class SkippedUtterance:
    id: str
    reason: str


@dataclass
class ExtractionReport:
    """What one extraction run did."""

    store_path: Path
    encoder: str
    modality: str
    written: int = 0
    already_present: int = 0
    missing: list[SkippedUtterance] = field(default_factory=list)
    failed: list[SkippedUtterance] = field(default_factory=list)
    seconds: float = 0.0
    report_path: Path | None = None

    def summary(self) -> str:
        return (
            f"{self.written} written, {self.already_present} already in the store, "
            f"{len(self.missing)} without {self.modality}, {len(self.failed)} failed "
            f"-> {self.store_path} ({self.seconds:.1f} s)"
        )

    def to_json(self) -> dict:
        data = asdict(self)
        data["store_path"] = str(self.store_path)
        data["report_path"] = None if self.report_path is None else str(self.report_path)
        data["failure_counts"] = dict(Counter(f.reason.split(":")[0] for f in self.failed))
        return data


def report_path_for(store_path: str | Path) -> Path:
    store_path = Path(store_path)
    return store_path.with_name(store_path.name + ".skipped.json")


def extract_features(
    corpus: Corpus | list[UtteranceRecord],
    encoder: TextEncoder | AudioEncoder,
    store_path: str | Path,
    batch_size: int = 8,
    on_error: OnError = "fail",
    limit: int | None = None,
    progress: bool = True,
    word_timer: WordTimer | None = None,
    check_inputs: bool = True,
    commit_every: int = 256,
) -> ExtractionReport:
    """Encode each record's text or audio (per `encoder.modality`) into a FeatureStore;
    `word_timer(wave, words)` (text only) adds each word's spoken span.

    `check_inputs=False`: the caller checked ids and inputs on the whole corpus (a shard of it
    may lack every input without the corpus lacking them). `commit_every`: utterances per journal
    commit of the store (a kill loses at most these, or `commit_seconds` of work)."""
    from hri_emo.data.store.feature_store import FeatureStore

    if on_error not in ("fail", "skip"):
        raise ConfigError(f"on_error must be 'fail' or 'skip', got {on_error!r}")
    records = corpus.records if isinstance(corpus, Corpus) else list(corpus)
    records = records[:limit] if limit is not None else records
    if check_inputs:
        _check_unique_ids(records)
        _check_modality_present(corpus, records, encoder.modality)
    store_path = Path(store_path)
    report = ExtractionReport(store_path, encoder.name, encoder.modality)
    start = time.perf_counter()
    timed = word_timer is not None
    with _open_store(FeatureStore, store_path, encoder, timed, commit_every) as store:
        todo = [r for r in records if r.id not in store]
        report.already_present = len(records) - len(todo)
        bar = tqdm(
            total=len(todo),
            unit="utt",
            desc=f"{encoder.modality}:{encoder.name}",
            disable=not progress,
        )
        for first in range(0, len(todo), batch_size):
            batch = todo[first : first + batch_size]
            _extract_batch(batch, encoder, store, report, on_error, word_timer)
            store.commit_if_due()  # a kill loses at most store.commit_seconds of work
            bar.update(len(batch))
        bar.close()
    report.seconds = time.perf_counter() - start
    if report.failed or report.missing or on_error == "skip":
        report.report_path = report_path_for(store_path)
        report.report_path.write_text(json.dumps(report.to_json(), indent=2))
    logger.debug("extract: %s", report.summary())
    return report


def _check_modality_present(
    corpus: Corpus | list[UtteranceRecord], records: list[UtteranceRecord], modality: str
) -> None:
    """DataError when no record has the input to encode (e.g. the manifest has no text column):
    the store would come out empty. Names the configured column and shows the header."""
    if not records or any(_has_input(r, modality) for r in records):
        return
    info = corpus.info if isinstance(corpus, Corpus) else {}
    source = info.get("source", "the corpus")
    column = (info.get("columns") or {}).get("text" if modality == "text" else "wav")
    header = info.get("header")
    option = "text_column" if modality == "text" else "wav_column"
    what = "transcript" if modality == "text" else "recording"
    if column is not None and header is not None and column not in header:
        raise DataError(
            f"{source}: no {modality} column {column!r} (header: {list(header)}); name the "
            f"{what} column with --option {option}=<column>"
        )
    where = f" (column {column!r})" if column is not None else ""
    raise DataError(
        f"{source}: none of the {len(records)} utterance(s) has a {what}{where}; nothing to "
        f"extract for --modality {modality}"
    )


def _has_input(record: UtteranceRecord, modality: str) -> bool:
    if modality == "text":
        return bool(record.text and record.text.strip())
    return record.wav_path is not None


def _check_unique_ids(records: list[UtteranceRecord]) -> None:
    counts = Counter(r.id for r in records)
    duplicates = [utt for utt, n in counts.items() if n > 1]
    if duplicates:
        raise DataError(f"utterance ids must be unique; repeated: {duplicates[:5]}")


WORD_TIMES = "whisper-forced-alignment"  # metadata.extra["word_times"] of a timed text store


def store_metadata(encoder: TextEncoder | AudioEncoder, timed: bool = False):
    """The metadata of the store this extraction writes (word times noted when `timed`)."""
    metadata = encoder.metadata
    if timed:
        metadata = replace(metadata, extra={**metadata.extra, "word_times": WORD_TIMES})
    return metadata


def _open_store(
    store_cls,
    path: Path,
    encoder: TextEncoder | AudioEncoder,
    timed: bool = False,
    commit_every: int = 256,
):
    """Create the store, or reopen it to resume after checking it holds this encoder's output
    (and word times when `timed`)."""
    metadata = store_metadata(encoder, timed)
    if not path.exists():
        return store_cls.create(path, metadata, commit_every=commit_every)
    store = store_cls.open(path, mode="a", commit_every=commit_every)
    try:
        check_resumable(store, metadata)
    except FeatureMismatchError:
        store.close()
        raise
    return store


def check_resumable(store, metadata) -> None:
    """FeatureMismatchError unless `store` holds features of this encoder, layer and level
    (and word times exactly when `metadata` asks for them)."""
    path = store.path
    store.check_compatible(
        dim=metadata.dim,
        encoder=metadata.encoder,
        modality=metadata.modality,
        level=metadata.level,
        expected_by=f"extraction with encoder {metadata.encoder!r}",
    )
    timed = metadata.extra.get("word_times") is not None
    if store.metadata.extra.get("word_times") != metadata.extra.get("word_times"):
        raise FeatureMismatchError(
            f"store {path} was written {'with' if not timed else 'without'} word times; "
            "this extraction asks for the other: use another --out"
        )
    if store.metadata.layer != metadata.layer:
        raise FeatureMismatchError(
            f"store {path} holds layer {store.metadata.layer!r} of {metadata.encoder!r}, "
            f"this extraction asks for layer {metadata.layer!r}; use another --out"
        )


def _extract_batch(
    batch, encoder, store, report: ExtractionReport, on_error: OnError, timer: WordTimer | None
) -> None:
    """Load the inputs of one batch, encode them and write them, recording what was skipped.
    With on_error="fail" the utterances before the failing one are still written and committed,
    so that a rerun resumes after them."""
    ready: list[tuple[UtteranceRecord, object]] = []
    failure: tuple[UtteranceRecord, Exception] | None = None
    for record in batch:
        try:
            item = _load_input(record, encoder.modality)
        except SKIPPABLE as err:
            if on_error == "fail":
                failure = (record, err)
                break
            _fail(report, record, err, on_error)
            continue
        if item is None:
            report.missing.append(SkippedUtterance(record.id, f"no {encoder.modality}"))
        else:
            ready.append((record, item))
    if ready:
        _encode_and_write(ready, encoder, store, report, on_error, timer)
    if failure is not None:
        _fail(report, *failure, on_error, store)


def _encode_and_write(
    ready, encoder, store, report: ExtractionReport, on_error: OnError, timer: WordTimer | None
) -> None:
    try:
        encoded = encoder.encode([item for _, item in ready])
    except SKIPPABLE:  # find the utterance(s) at fault: retry one by one, keeping the others
        for record, item in ready:
            try:
                result = encoder.encode([item])[0]
            except SKIPPABLE as err:
                _fail(report, record, err, on_error, store)
                continue
            _write_one(store, record, result, encoder.layer, report, on_error, timer)
        return
    for (record, _), result in zip(ready, encoded):
        _write_one(store, record, result, encoder.layer, report, on_error, timer)


def _write_one(
    store, record, result, layer, report: ExtractionReport, on_error: OnError, timer=None
) -> None:
    try:
        _write(store, record, result, layer, timer)
    except SKIPPABLE as err:  # e.g. NaN features: the store names the utterance
        _fail(report, record, err, on_error, store)
        return
    report.written += 1


def _load_input(record: UtteranceRecord, modality: str) -> str | np.ndarray | None:
    """The record's transcript or 16 kHz samples; None when it has none."""
    if not _has_input(record, modality):
        return None
    if modality == "text":
        return record.text
    return load_audio(record.wav_path, record.start, record.end)


def _fail(
    report: ExtractionReport,
    record: UtteranceRecord,
    err: Exception,
    on_error: str,
    store=None,
):
    """Skip `record` (listed in the report) or, with on_error="fail", commit what the store
    holds so far and raise an error naming the utterance."""
    if on_error == "fail":
        kept = ""
        if store is not None:
            store.commit()
            kept = (
                f" ({len(store)} utterance(s) stored before it are kept and a rerun resumes "
                "after them; --on-error skip leaves bad utterances out)"
            )
        if isinstance(err, HriEmoError):
            raise type(err)(f"utterance {record.id!r}: {err}{kept}") from err
        raise DataError(f"utterance {record.id!r}: {type(err).__name__}: {err}{kept}") from err
    logger.warning("skipping utterance %r: %s", record.id, err)
    report.failed.append(SkippedUtterance(record.id, f"{type(err).__name__}: {err}"))


def _write(store, record: UtteranceRecord, encoded, layer, timer: WordTimer | None = None) -> None:
    features = flatten_layers(encoded.features, layer)
    tokens = getattr(encoded, "tokens", None)
    frame_times = getattr(encoded, "frame_times", None)
    if timer is not None and tokens and len(tokens) == len(features) and record.wav_path:
        frame_times = timer(_load_input(record, "audio"), list(tokens))
    store.write(record.id, features, tokens=tokens, frame_times=frame_times)
