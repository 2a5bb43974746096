"""Fit the audio-reliability head before training, as the probes are fitted.

The head (model/reliability.py) learns each frame's reliability from the SNR recorded for the
items of a noisy copy of the audio (`hri-emo extract-noisy`). Trained only beside the emotion
model on the half of the training items read noisy, it neither converged nor generalised:
measured on the demo corpus, noisy copies of training recordings at 0-5 dB read r = 0.43 against
a target of 0.25, and a held-out recording at white 0 dB 0.50 against 0.17, so beta at 0 dB
stayed above half its clean value. Its target does not depend on the emotion model, so
`train.reliability_fit` fits it first, on data the training split already has:

- data: every training item twice, as recorded (target 1) and from the noisy copy (its SNR's
  target), up to FRAMES_PER_ITEM frames of each (a seeded sample), in the head's own input
  (`AudioReliability.frame_inputs`); both versions of one recording, so the head learns the
  noise and not the recording;
- loss: the head's binary cross-entropy plus an L2 penalty alpha ||W||^2 / (2 N) (scikit-learn
  MLP's form); alpha from ALPHA_GRID by the loss on the validation items' two versions (held-out
  speakers), as the probes' C is chosen without the test split;
- solver: full-batch L-BFGS with a strong-Wolfe line search, at most 100 iterations (on the
  demo's validation items 100 iterations generalised better than 300: 0.286 against 0.302).

The fitted head is then frozen, as the fitted probes are: trained on beside the emotion model it
would drift back to the half of the items read noisy.
Skipped without a noisy copy with recorded SNRs: "as recorded = reliable" needs no fit.
Dimension letters: N frames, D features.
"""

from __future__ import annotations

import copy
import logging
import math
from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F

from hri_emo.data.store.mixed_source import read_snr
from hri_emo.model.reliability import AudioReliability, reliability_target

log = logging.getLogger(__name__)

FRAMES_PER_ITEM = 32  # enough frames per recording; keeps the full batch small (EmoDB 1920-d)
ALPHA_GRID = (0.1, 10.0, 1000.0)
DEFAULT_ALPHA = 10.0  # without validation items: the demo's choice (its grid's middle)


@torch.no_grad()
def reliability_frames(
    head: AudioReliability, datamodule: Any, stage: str, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """(N, D) head inputs of sampled frames of `stage`'s items, clean and noisy, and (N,) their
    targets; empty when the data module has no noisy copy with recorded SNRs."""
    clean, noisy = datamodule.sources.get("audio"), datamodule.noisy_audio
    snr = read_snr(datamodule.config.noisy_audio_features) if noisy is not None else None
    if clean is None or not snr:
        return torch.zeros(0, 0), torch.zeros(0)
    generator = torch.Generator().manual_seed(seed)
    limit = datamodule.config.max_audio_len
    xs, targets = [], []
    for record in datamodule.stage_records(stage):
        for source, db in ((clean, math.inf), (noisy, snr.get(record.id, math.nan))):
            stored = None if math.isnan(db) else source.get(record)
            if stored is None:
                continue
            features = torch.as_tensor(stored.features, dtype=torch.float32)[:limit]
            features = features[features.isfinite().all(-1)]  # a broken frame teaches nothing
            if len(features) == 0:
                continue
            if len(features) > FRAMES_PER_ITEM:
                pick = torch.randperm(len(features), generator=generator)[:FRAMES_PER_ITEM]
                features = features[pick.sort().values]
            mask = torch.ones(1, len(features), dtype=torch.bool)
            xs.append(head.frame_inputs(features[None], mask)[0])
            target = reliability_target(torch.tensor([db]))
            targets.append(target.expand(len(features)))
    if not xs:
        return torch.zeros(0, 0), torch.zeros(0)
    return torch.cat(xs), torch.cat(targets)


def _bce(head: AudioReliability, x: Tensor, target: Tensor) -> Tensor:
    return F.binary_cross_entropy_with_logits(head.head(x).squeeze(-1), target)


def _fit(head: AudioReliability, x: Tensor, target: Tensor, alpha: float, max_iter: int) -> None:
    weights = [p for name, p in head.head.named_parameters() if name.endswith("weight")]
    penalty = alpha / (2.0 * len(target))
    solver = torch.optim.LBFGS(
        list(head.head.parameters()),
        max_iter=max_iter,
        tolerance_grad=1e-6,
        line_search_fn="strong_wolfe",
    )

    def objective() -> Tensor:
        solver.zero_grad()
        value = _bce(head, x, target) + penalty * sum(w.pow(2).sum() for w in weights)
        value.backward()
        return value

    with torch.enable_grad():
        solver.step(objective)


def fit_reliability(
    model: torch.nn.Module, datamodule: Any, seed: int = 0, max_iter: int = 100
) -> dict[str, float] | None:
    """Fit `model.reliability` (see the module docstring). Returns what was fitted (frames,
    alpha, validation loss), or None when the model has no head or the data no noisy copy."""
    head: AudioReliability | None = getattr(model, "reliability", None)
    if head is None:
        return None
    key = _cache_key(head, datamodule, seed, max_iter)
    if key in _FITTED:  # `select` trains its candidates on the same data: fit once
        state, fitted = _FITTED[key]
        head.head.load_state_dict(state)
        head.requires_grad_(False)
        return fitted
    x, target = reliability_frames(head, datamodule, "train", seed)
    if len(target) == 0:
        return None
    x_val, target_val = reliability_frames(head, datamodule, "val", seed)
    start = copy.deepcopy(head.head.state_dict())
    scores: dict[float, float] = {}
    for alpha in ALPHA_GRID if len(target_val) else (DEFAULT_ALPHA,):
        head.head.load_state_dict(start)
        _fit(head, x, target, alpha, max_iter)
        with torch.no_grad():
            scores[alpha] = float(_bce(head, x_val, target_val)) if len(target_val) else math.nan
    chosen = min(scores, key=lambda a: (math.isnan(scores[a]), scores[a]))
    head.head.load_state_dict(start)
    _fit(head, x, target, chosen, max_iter)
    head.requires_grad_(False)
    log.info(
        "audio reliability head fitted on %d frames: alpha=%g (validation BCE %s)",
        len(target), chosen, {a: round(s, 4) for a, s in scores.items()},
    )  # fmt: skip
    fitted = {"frames": float(len(target)), "alpha": chosen, "val_bce": scores[chosen]}
    _FITTED.clear()  # one entry is enough: a process trains one corpus at a time
    _FITTED[key] = (copy.deepcopy(head.head.state_dict()), fitted)
    return fitted


_FITTED: dict[tuple, tuple[dict[str, Tensor], dict[str, float]]] = {}


def _cache_key(head: AudioReliability, datamodule: Any, seed: int, max_iter: int) -> tuple:
    """Everything the fit depends on: the head's starting weights, the stores, the splits."""
    start = tuple(hash(v.numpy().tobytes()) for v in head.head.state_dict().values())
    stores = (str(datamodule.config.audio_features), str(datamodule.config.noisy_audio_features))
    splits = tuple(tuple(r.id for r in datamodule.stage_records(s)) for s in ("train", "val"))
    return start, stores, splits, datamodule.config.max_audio_len, seed, max_iter
