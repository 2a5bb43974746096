"""Explanations of stored corpus utterances: a trained run + the feature stores it was trained on.

    explanations = explain_corpus("runs/mosi", split="test", limit=20)

The data pipeline is rebuilt exactly as `hri-emo evaluate` builds it (the run's config, its
stored standardisation, the compatibility check), so an utterance gets the probabilities and
decision evaluation gives it. Each explanation carries the true labels, the transcript, the
recording's energy curve when its wav is readable, and the record's speaker and extra columns
(in `metadata`, for grouping in `summarize`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hri_emo.data.collate import collate_batch
from hri_emo.data.records import UtteranceRecord
from hri_emo.errors import ConfigError, DataError, HriEmoError
from hri_emo.explain.faithfulness import ModelInputs, check_attribution, use_gradient_attribution
from hri_emo.result import UtteranceExplanation, waveform_envelope

log = logging.getLogger(__name__)
BATCH_SIZE = 32


def explain_corpus(
    run: str | Path,
    split: str = "test",
    ids: Sequence[str] | None = None,
    limit: int | None = None,
    attribution: str = "attention",
) -> list[UtteranceExplanation]:
    """Explanations of `split`'s utterances (all, the given `ids`, or the first `limit`).
    `attribution="integrated-gradients"` replaces the attention maps by Captum's (slower);
    `"erasure"` the word map by word erasure (inference/erasure.py; re-encodes each transcript
    once per word with the run's text encoder)."""
    check_attribution(attribution)
    from hri_emo.checkpoint import resolve_checkpoint
    from hri_emo.inference.recognizer import EmotionRecognizer
    from hri_emo.training.run import open_run, stage_of

    stage = stage_of(split)
    try:
        directory = resolve_checkpoint(run)
        if not (directory / "experiment.yaml").is_file():
            raise FileNotFoundError(f"{directory} has no experiment.yaml (a bare model folder)")
        opened = open_run(directory)
    except FileNotFoundError as err:
        raise ConfigError(
            f"{run}: corpus utterances need a training run or checkpoint folder (its config and "
            f"feature stores tell which data to read); {err}"
        ) from None
    datamodule = opened.datamodule()
    dataset = datamodule.dataset(stage)
    indices = select(dataset.records, ids, limit, stage)
    recognizer = EmotionRecognizer.from_run(opened)
    module = opened.module()
    explanations = []
    try:
        for start in range(0, len(indices), BATCH_SIZE):
            items = [dataset[i] for i in indices[start : start + BATCH_SIZE]]
            records = [dataset.records[i] for i in indices[start : start + BATCH_SIZE]]
            batch = _explain_batch(recognizer, module, items, records, datamodule)
            if attribution == "erasure":
                for exp, item in zip(batch, items):
                    _use_erasure(recognizer, exp, item)
            elif attribution != "attention":
                for exp, item in zip(batch, items):
                    use_gradient_attribution(exp, module.model, ModelInputs(item.text, item.audio))
            explanations += batch
    finally:
        datamodule.close()
    return explanations


def _use_erasure(recognizer, exp: UtteranceExplanation, item) -> None:
    """Word erasure (inference/erasure.py) with the item's stored audio and word times."""
    from hri_emo.data.features import UtteranceFeatures
    from hri_emo.inference.batch import uses_time_prior
    from hri_emo.inference.erasure import use_erasure

    audio = None if item.audio is None else UtteranceFeatures(item.audio, None, item.frame_times)
    timed = uses_time_prior(recognizer.model, recognizer.spec.metadata("text"))
    use_erasure(exp, recognizer, audio, item.word_times if timed else None)


def select(
    records: list[UtteranceRecord], ids: Sequence[str] | None, limit: int | None, stage: str
) -> list[int]:
    """Dataset indices of the wanted records; an unknown id is a DataError naming it."""
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit must be a positive number, got {limit}")
    if ids:
        where = {r.id: i for i, r in enumerate(records)}
        unknown = [i for i in ids if i not in where]
        if unknown:
            raise DataError(
                f"utterance id(s) {unknown} are not in the {stage} split "
                f"({len(records)} utterances, e.g. {[r.id for r in records[:3]]})"
            )
        chosen = [where[i] for i in ids]
    else:
        chosen = list(range(len(records)))
    return chosen[:limit] if limit else chosen


@torch.no_grad()
def _explain_batch(recognizer, module, items, records, datamodule) -> list[UtteranceExplanation]:
    batch = collate_batch(items)
    out = module.model_step(batch, "predict")
    words_of = _words(batch, module)
    result = []
    for index, (item, record) in enumerate(zip(items, records)):
        context: dict[str, Any] = dict(
            utterance_id=record.id,
            transcript=record.text,
            transcript_source="corpus" if record.text else None,
            true_labels=_true_labels(record, datamodule),
            metadata=_metadata(record),
            word_times=_word_times(record, words_of[index]),
            context_turns=item.context_ids,
        )
        context.update(_recording(record))
        frame_times = item.frame_times
        if item.audio is not None and frame_times is None:  # pooled or unknown times
            frame_times = _even_times(len(item.audio), context.get("duration_s"))
        exp = recognizer.explain_output(out, index, words_of[index], frame_times, **context)
        if item.audio is not None and len(item.audio) == 1:
            exp.alignment = exp.frame_attribution = None
            exp.notes.append(
                "The audio is one pooled vector (utterance-level functionals), not frames: "
                "there is no alignment over time."
            )
        result.append(exp)
    return result


def _words(batch, module) -> list[list[str]]:
    if module.text_encoder is not None:
        return [list(w) for w in module.text_encoder.last_words]
    return [list(t or []) for t in (batch.tokens or [[] for _ in batch.ids])]


def _true_labels(record: UtteranceRecord, datamodule) -> list[str]:
    if datamodule.task == "singlelabel":
        return [record.label] if record.label else []
    return [e for e in datamodule.emotions if record.labels.get(e, 0.0) > 0]


def _metadata(record: UtteranceRecord) -> dict[str, Any]:
    meta: dict[str, Any] = {"corpus": record.corpus, "split": record.split}
    if record.speaker is not None:
        meta["speaker"] = record.speaker
    for key, value in record.extra.items():
        if isinstance(value, (str, int, float, bool)):
            meta[key] = value
    return meta


def _word_times(record: UtteranceRecord, words: list[str]) -> list | None:
    """The corpus's word timings when they match the explanation's words one to one."""
    if not record.words or len(record.words) != len(words):
        return None
    return [(w.start, w.end) for w in record.words]


def _recording(record: UtteranceRecord) -> dict[str, Any]:
    """duration_s and envelope from the record's wav (nothing when it cannot be read)."""
    if record.wav_path is None or not Path(record.wav_path).is_file():
        return {}
    from hri_emo.encoders import load_audio
    from hri_emo.encoders.audio_io import TARGET_SAMPLE_RATE as RATE

    try:
        wave = load_audio(record.wav_path, record.start, record.end)
    except (HriEmoError, OSError, RuntimeError) as err:  # costs only the energy curve
        log.warning("%s: cannot read %s for its energy curve: %s", record.id, record.wav_path, err)
        return {}
    return {"duration_s": len(wave) / RATE, "envelope": waveform_envelope(wave)}


def _even_times(frames: int, duration: float | None) -> np.ndarray:
    """Frame spans spread evenly over the recording (or 1 s per frame when unknown)."""
    step = (duration or frames) / frames
    starts = np.arange(frames) * step
    return np.stack([starts, starts + step], axis=1)
