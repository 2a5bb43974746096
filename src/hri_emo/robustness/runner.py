"""Evaluate trained runs under corruption conditions: the task metric and mean beta per condition.

For each run the evaluated split is read as `hri-emo evaluate` reads it (the run's config, its
stored standardisation and thresholds). A condition replaces one channel: corrupted transcripts
or recordings are re-encoded through the run's own encoders into cached feature stores (shared by
every compared run with the same encoder); feature noise is added to the standardised audio
features of each batch; a missing modality is left out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hri_emo.data.dataset import EmotionDataset, RecordFeatureSource
from hri_emo.data.features import FeatureSpec
from hri_emo.data.normalization import StandardizedSource
from hri_emo.data.records import UtteranceRecord
from hri_emo.data.sampler import make_dataloader
from hri_emo.data.store.feature_store import FeatureStore
from hri_emo.errors import ConfigError, HriEmoError
from hri_emo.inference.features import build_encoder
from hri_emo.robustness import corruptions as C
from hri_emo.robustness.conditions import Condition, default_conditions, parse_condition
from hri_emo.robustness.inputs import (
    corrupt_recordings,
    corrupt_texts,
    corrupted_store,
    has_recordings,
)
from hri_emo.training.checkpoint import TrainedCheckpoint
from hri_emo.training.config import ExperimentConfig
from hri_emo.training.datamodule import EmotionDataModule
from hri_emo.training.evaluate import HEADLINE
from hri_emo.training.lightning_module import EmotionLightningModule
from hri_emo.training.metrics import compute_metrics
from hri_emo.training.run import STAGE_ALIASES, open_run

log = logging.getLogger(__name__)


@dataclass
class ConditionResult:
    """One run under one condition."""

    run: str
    model: str
    condition: str
    family: str
    metric: float | None  # the task's headline metric (accuracy / mean WA)
    beta: float | None  # mean beta over the split (1 = audio trusted)
    metrics: dict[str, float] = field(default_factory=dict)
    wer: float | None = None  # word error rate of the condition's transcripts
    note: str | None = None  # why there is no metric (e.g. a text-only model without text)


@dataclass
class RunInputs:
    """A run loaded once: checkpoint, config, clean records of the split, its feature spec."""

    path: Path
    ckpt: TrainedCheckpoint
    cfg: ExperimentConfig
    records: list[UtteranceRecord]
    spec: FeatureSpec
    audio_std: torch.Tensor | None  # per-dimension training std of the (fed) audio features

    @property
    def model_name(self) -> str:
        """The model, marked "+corruption" when it was trained with corruption."""
        augmented = self.cfg.train.corruption.fraction > 0 or self.cfg.data.noisy_audio_features
        return self.cfg.model.name + (" +corruption" if augmented else "")


def evaluate_robustness(
    runs: list[str | Path],
    split: str = "test",
    conditions: list[str] | None = None,
    cache_dir: str | Path = "robustness-cache",
    seed: int = 0,
    transcriber: Any = None,
) -> list[ConditionResult]:
    """Every run under every condition (the default set fits the first run's corpus)."""
    stage = STAGE_ALIASES.get(split, split)  # unchecked, as before: the data module says
    loaded = [load_run(run, stage) for run in runs]
    recordings = has_recordings(loaded[0].records)
    chosen = (
        default_conditions(recordings)
        if not conditions
        else [parse_condition(c) for c in conditions]
    )
    sweep = _Sweep(Path(cache_dir), seed, transcriber)
    results = []
    for condition in chosen:
        for run in loaded:
            log.info("robustness: %s under %s", run.path, condition.name)
            results.append(_evaluate_one(run, condition, sweep))
    return results


def load_run(path: str | Path, stage: str) -> RunInputs:
    run = open_run(path)
    datamodule = run.datamodule(setup=False)
    records = datamodule.stage_records(stage)
    audio_std = _audio_std(datamodule, run.checkpoint)
    datamodule.close()
    spec = FeatureSpec.from_checkpoint(run.checkpoint)
    return RunInputs(Path(path), run.checkpoint, run.config, records, spec, audio_std)


@dataclass
class _Sweep:
    """What every (run, condition) of one `evaluate_robustness` call shares; `texts` keeps each
    condition's corrupted transcripts, so ASR runs once per utterance."""

    cache: Path
    seed: int
    transcriber: Any
    texts: dict[tuple, list[UtteranceRecord]] = field(default_factory=dict)


def _evaluate_one(run: RunInputs, condition: Condition, sweep: _Sweep) -> ConditionResult:
    base = ConditionResult(
        str(run.path), run.model_name, condition.name, condition.family, None, None
    )
    try:
        records, stores, wer = _inputs_for(run, condition, sweep)
    except _NotApplicable as reason:
        return replace(base, note=str(reason))
    noise = condition.level if condition.kind == "feature" else None
    try:
        metrics, beta = _score(run, records, stores, noise, sweep.seed)
    except HriEmoError as err:  # e.g. a single-modality baseline without its modality
        return replace(base, note=str(err).split(";")[0])
    headline = HEADLINE[run.ckpt.task][0]
    return replace(base, metric=metrics.get(headline), beta=beta, metrics=metrics, wer=wer)


class _NotApplicable(Exception):
    """The condition does not apply to this run (said in the table, not an error)."""


def _inputs_for(run: RunInputs, condition: Condition, sweep: _Sweep):
    """(records, {modality: store path | "record" | None}, WER or None) under `condition`."""
    cache, seed, transcriber, texts = sweep.cache, sweep.seed, sweep.transcriber, sweep.texts
    stores = {"text": run.cfg.data.text_features, "audio": run.cfg.data.audio_features}
    records, wer = run.records, None
    if condition.kind == "missing":
        stores[condition.corruption] = None
        if run.cfg.text_encoder.finetune and condition.corruption == "text":
            records = [replace(r, text=None) for r in records]
    elif condition.kind == "text":
        uses_text = stores["text"] is not None or run.cfg.text_encoder.finetune
        if not uses_text:
            raise _NotApplicable("the run does not use text")
        if stores["text"] == "record":
            raise ConfigError(
                f"{condition.name}: the run's text features are precomputed manifest columns, "
                "which cannot be recomputed from a corrupted transcript"
            )
        if condition.needs_recordings and not has_recordings(records):
            raise ConfigError(f"{condition.name} needs recordings to transcribe; corpus has none")
        key = (condition.name, seed, tuple((r.id, r.text) for r in records))
        if key not in texts:
            if condition.corruption == "whisper-asr" and transcriber is None:
                transcriber = _whisper_transcriber()
            texts[key] = corrupt_texts(records, condition, seed, transcriber)
        records = texts[key]
        wer = word_error_rate(run.records, records)
        if not any(r.text and r.text.strip() for r in records):  # e.g. ASR heard no word at all
            stores["text"] = None  # every transcript is empty: the text is missing, as in no-text
            records = [replace(r, text=None) for r in records]
        elif not run.cfg.text_encoder.finetune:
            encoder = _encoder(run, "text")
            stores["text"] = str(
                corrupted_store(records, encoder, cache, condition, _key(run, "text", seed))
            )
    elif condition.kind == "wave":
        _require_recordings(run, condition)
        encoder = _encoder(run, "audio")
        folder = cache / "wavs" / f"{condition.name}-{seed}"
        records = corrupt_recordings(records, condition, seed, folder)
        stores["audio"] = str(
            corrupted_store(records, encoder, cache, condition, _key(run, "audio", seed))
        )
    elif condition.kind == "feature" and stores["audio"] is None:
        raise _NotApplicable("the run does not use audio")
    return records, stores, wer


def _whisper_transcriber() -> Any:
    """The embedded Whisper tiny.en transcriber, or _NotApplicable when this installation has
    no speech recognition (hri_emo.inference.asr), so the other conditions still report."""
    try:
        from hri_emo.inference.asr import create_asr
    except ImportError as err:
        raise _NotApplicable(f"no speech recognition in this installation ({err})") from err
    return create_asr("auto")  # the embedded Whisper tiny.en


def _require_recordings(run: RunInputs, condition: Condition) -> None:
    if run.cfg.data.audio_features is None:
        raise _NotApplicable("the run does not use audio")
    if run.cfg.data.audio_features == "record" or not has_recordings(run.records):
        raise ConfigError(
            f"{condition.name}: the corpus has no recordings for its {len(run.records)} "
            "evaluated utterances (audio features come from precomputed columns), so waveform "
            "noise cannot be applied; feature-space noise is what applies: "
            "feature-noise-20db, feature-noise-10db, feature-noise-0db"
        )


def _encoder(run: RunInputs, modality: str) -> Any:
    """The run's own encoder for `modality` (rebuilt from features.json)."""
    entry = run.spec.metadata(modality)
    try:
        return build_encoder(modality, run.spec)
    except ConfigError as err:
        name = (entry or {}).get("encoder", "?")
        raise ConfigError(
            f"the condition needs the run's {modality} encoder {name!r}: {err}"
        ) from err


def _key(run: RunInputs, modality: str, seed: int) -> dict[str, Any]:
    return {"features": run.spec.metadata(modality), "seed": seed, "corpus": run.cfg.data.corpus}


@torch.no_grad()
def _score(
    run: RunInputs,
    records: list[UtteranceRecord],
    stores: dict[str, str | None],
    noise_snr: float | None,
    seed: int,
) -> tuple[dict[str, float], float | None]:
    """Metrics and mean beta of the run on `records` read from `stores`."""
    ckpt, data = run.ckpt, run.cfg.data
    sources = {m: _open(m, loc, ckpt) for m, loc in stores.items() if loc is not None}
    dataset = EmotionDataset(
        records,
        ckpt.emotions,
        ckpt.task,
        text_source=sources.get("text"),
        audio_source=sources.get("audio"),
        max_text_len=data.max_text_len,
        max_audio_len=data.max_audio_len,
    )
    loader = make_dataloader(dataset, batch_size=data.eval_batch_size or data.batch_size)
    module = EmotionLightningModule(ckpt.model, text_encoder=ckpt.text_encoder).eval()
    generator = torch.Generator().manual_seed(seed)
    probs, targets, betas, loss_sum = [], [], [], 0.0
    for batch in loader:
        if noise_snr is not None and batch.audio is not None:
            noisy = C.feature_noise(
                batch.audio, batch.audio_mask, noise_snr, run.audio_std, generator
            )
            batch = replace(batch, audio=noisy)
        out = module.model_step(batch, "predict")
        loss_sum += float(out.loss) * len(batch)
        probs.append(out.probabilities.double().numpy())
        targets.append(batch.labels.numpy())
        if out.beta_mean is not None:
            betas.append(out.beta_mean.double().numpy())
    for source in sources.values():
        store = getattr(source, "source", source)
        if isinstance(store, FeatureStore):
            store.close()
    metrics = compute_metrics(
        ckpt.task, np.concatenate(targets), np.concatenate(probs), ckpt.emotions, ckpt.thresholds
    )
    metrics["loss"] = loss_sum / len(dataset)
    beta = float(np.concatenate(betas).mean()) if betas else None
    return metrics, beta


def _open(modality: str, location: str, ckpt: TrainedCheckpoint):
    source = RecordFeatureSource(modality) if location == "record" else FeatureStore.open(location)
    standardizer = ckpt.standardizers.get(modality)
    return source if standardizer is None else StandardizedSource(source, standardizer)


def _audio_std(datamodule: EmotionDataModule, ckpt: TrainedCheckpoint) -> torch.Tensor | None:
    """Per-dimension std of the audio features the model is fed, over the training split
    (1 for standardised features, by construction)."""
    source = datamodule.sources.get("audio")
    if source is None:
        return None
    if "audio" in ckpt.standardizers:
        return torch.ones(datamodule.feature_dim("audio"))
    arrays = [source.get(r) for r in datamodule.stage_records("train")[:2000]]
    stacked = np.concatenate(
        [a.features.reshape(-1, a.features.shape[-1]) for a in arrays if a is not None]
    )
    return torch.from_numpy(stacked.std(axis=0).astype(np.float32))


def word_error_rate(reference: list[UtteranceRecord], hypothesis: list[UtteranceRecord]) -> float:
    """Corpus WER of the corrupted transcripts against the originals (utterances with text)."""
    from hri_emo.inference.asr import normalise_words
    from hri_emo.inference.asr import word_error_rate as wer

    pairs = [(r.text, h.text or "") for r, h in zip(reference, hypothesis) if r.text]
    pairs = [(r, h) for r, h in pairs if normalise_words(r)]
    if not pairs:
        return float("nan")
    return wer([r for r, _ in pairs], [h for _, h in pairs])
