"""Fit the pooled read-outs to convergence before training: the probe first, then the residual.

A logistic regression on mean-pooled encoder features is the baseline every small corpus is
measured against, and it is fitted to convergence (L-BFGS). Trained by AdamW inside the model
and stopped early on a small validation split, the same read-out is not: on an unseen acted
corpus v2 ended 13 points below such a probe (issue 22). So `train.readout_fit` fits each
modality's `PooledReadout` as that probe on the training split before the first step:

- features: the read-out's own input (per-layer LayerNorm, mean over valid positions), of the
  items that have the modality; standardised for the fit, the scaler folded back into the
  weights afterwards, so the read-out stays one exact linear map (explanations unchanged);
- loss: the model's own task loss (cross-entropy, or BCE summed over emotions, with its class
  weights) plus an L2 penalty ||W||^2 / (2 C N): scikit-learn's LogisticRegression(C)
  objective (one per emotion for multi-label);
- solver: full-batch L-BFGS with a strong-Wolfe line search, in float64.

The fitted read-outs are then frozen (`train.readout_freeze`) and the model's classifier is
zeroed, so training starts from the beta-gated probes and the attention path learns only what
they miss: a residual. Dimension letters: N items, D features, E emotions.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from math import inf

import torch
from torch import Tensor

from hri_emo.data.batch import Batch
from hri_emo.model.heads import emotion_loss
from hri_emo.model.inputs import prepare_inputs
from hri_emo.model.pooled import PooledReadout
from hri_emo.training.cross_fit import NOISY_COPY, FoldKey, fold_splits

log = logging.getLogger(__name__)


@dataclass
class PooledSet:
    """One modality's pooled read-out inputs of the training items that have it."""

    x: Tensor  # (N, D)
    labels: Tensor  # (N,) classes or (N, E) multi-label targets
    ids: list[str]


def probe_batches(datamodule) -> Iterable[Batch]:
    """What the probes are fitted on: every training item as recorded, then, with a noisy copy
    of the audio, every item's noisy copy (`pooled_training_features` keeps only its audio and
    drops copies that are noise alone: their label says nothing about noise)."""
    batches = [datamodule.loader("train", audio_read="recorded")]
    if getattr(datamodule, "noisy_audio", None) is not None:
        batches.append(datamodule.loader("train", audio_read="noisy"))
    return itertools.chain(*batches)


@torch.no_grad()
def pooled_training_features(
    model: torch.nn.Module, batches: Iterable[Batch]
) -> dict[str, PooledSet]:
    """modality -> the pooled read-out inputs, labels and ids of the items that have it. An
    item read from a noisy copy of the audio (finite SNR) adds its audio only, under the id
    `<id> (noisy copy)`; one replaced by noise alone (SNR -inf) adds nothing."""
    gathered: dict[str, tuple[list, list, list]] = {"text": ([], [], []), "audio": ([], [], [])}
    for batch in batches:
        inputs = batch.model_inputs()
        text, audio, _ = prepare_inputs(
            model.config, inputs["text"], inputs["text_mask"], inputs["audio"], inputs["audio_mask"]
        )
        snr = batch.audio_snr if batch.audio_snr is not None else torch.full((len(batch.ids),), inf)
        copy = snr != inf  # (B,) audio read from the noisy copy (NaN: SNR not recorded)
        ids = [i + NOISY_COPY if c else i for i, c in zip(batch.ids, copy.tolist())]
        for name, modality in (("text", text), ("audio", audio)):
            if modality is None or not modality.present.any():
                continue
            readout: PooledReadout = getattr(model, f"{name}_readout")
            keep = modality.present & (~copy if name == "text" else snr != -inf)
            if not keep.any():
                continue
            pooled = readout.pooled(modality.features[keep], modality.mask[keep])
            gathered[name][0].append(pooled)
            gathered[name][1].append(batch.labels[keep])
            gathered[name][2].extend(i for i, k in zip(ids, keep.tolist()) if k)
    return {
        name: PooledSet(torch.cat(xs), torch.cat(ys), ids)
        for name, (xs, ys, ids) in gathered.items()
        if xs
    }


def fit_logistic(
    x: Tensor,
    labels: Tensor,
    task: str,
    num_emotions: int,
    c: float = 1.0,
    class_weights: Tensor | None = None,
    pos_weight: Tensor | None = None,
    max_iter: int = 500,
) -> tuple[Tensor, Tensor]:
    """(N, D) features -> (W (E, D), b (E,)) minimising task loss + ||W||^2 / (2 C N)."""
    x = x.double()
    mean, std = x.mean(0), x.std(0).clamp(min=1e-6)
    z = (x - mean) / std
    if class_weights is not None:
        class_weights = class_weights.double()
    if pos_weight is not None:
        pos_weight = pos_weight.double()
    targets = labels.double() if task == "multilabel" else labels.long()
    weight = torch.zeros(num_emotions, z.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(num_emotions, dtype=torch.float64, requires_grad=True)
    penalty = 1.0 / (2.0 * c * len(z))
    solver = torch.optim.LBFGS(
        [weight, bias], max_iter=max_iter, tolerance_grad=1e-6, line_search_fn="strong_wolfe"
    )

    def objective() -> Tensor:
        solver.zero_grad()
        logits = z @ weight.T + bias
        loss = emotion_loss(logits, targets, task, pos_weight, class_weights)
        if task == "multilabel":  # summed over emotions: one C-regularised probe per emotion
            loss = loss * num_emotions
        loss = loss + penalty * weight.pow(2).sum()
        loss.backward()
        return loss

    solver.step(objective)
    with torch.no_grad():
        folded = weight / std  # W z = (W / std) x - (W / std) mean
        return folded, bias - folded @ mean


def fitted_modalities(datamodule) -> list[str]:
    """The modalities whose read-outs can be fitted: those read from stored features."""
    return [m for m in ("text", "audio") if m in datamodule.sources]


def out_of_fold_logits(data: PooledSet, keys: list[FoldKey], fit, folds: int = 5) -> Tensor:
    """(N, E) logits of each item from a probe fitted without its speaker (and its sentence,
    where the corpus holds sentences out; training/cross_fit.py) ("stacking"): what the probe
    says about data it has not seen, so the residual and the gate learn its real errors."""
    logits = torch.full((len(data.x), 0), float("nan"))
    for train_rows, held_rows in fold_splits(keys, folds):
        weight, bias = fit(data.x[train_rows], data.labels[train_rows])
        held = data.x[held_rows].double() @ weight.T + bias  # (n, E)
        if logits.shape[1] == 0:
            logits = torch.full((len(data.x), held.shape[1]), float("nan"), dtype=held.dtype)
        logits[held_rows] = held
    return logits.float()


C_GRID = (1e-4, 1e-3, 0.01, 0.1, 1.0, 10.0)  # `train.readout_fit_c: null` chooses among these


def fit_pooled_readouts(
    model: torch.nn.Module,
    batches: Iterable[Batch],
    modalities: Iterable[str] = ("text", "audio"),
    c: float | None = None,
    freeze: bool = True,
    groups: Mapping[str, FoldKey] | None = None,
) -> dict[str, Tensor]:
    """Fit `model`'s pooled read-outs of `modalities` (those with stored features) as probes of
    the training batches, freeze them and zero the classifier (see the module docstring).

    `groups`: training item id -> FoldKey (training/cross_fit.py `training_fold_keys`; an item
    without one is its own speaker). Each probe's C is `c`, or with `c=None` the value of C_GRID
    whose out-of-fold probes have the lowest loss, as LogisticRegressionCV would choose it. Returns,
    per training item id, the (E, 2) out-of-fold text and audio probe logits of the chosen C
    (NaN where the item lacks the modality), which `train.readout_fit: stack` trains on in
    place of the read-outs' own. Models without pooled read-outs are left alone ({})."""
    if getattr(model, "text_readout", None) is None:
        return {}
    modalities = list(modalities)
    for name in modalities:
        getattr(model, f"{name}_readout").linear.requires_grad_(not freeze)
    heads, config = model.backbone.heads, model.config
    groups = groups or {}

    def fitter(c_value: float):
        def fit(x: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
            return fit_logistic(
                x, labels, config.task, config.num_emotions, c_value,
                heads.class_weights, heads.pos_weight,
            )  # fmt: skip

        return fit

    features = pooled_training_features(model, batches)
    fitted = sorted(set(features) & set(modalities))
    stacked: dict[str, Tensor] = {}
    for column, name in enumerate(("text", "audio")):
        if name not in fitted:
            continue
        data = features[name]
        item_groups = [groups.get(i, FoldKey(i)) for i in data.ids]
        held_out = {
            value: out_of_fold_logits(data, item_groups, fitter(value))
            for value in ((c,) if c is not None else C_GRID)
        }
        weights = (heads.pos_weight, heads.class_weights)
        losses = {
            value: float(emotion_loss(logits, data.labels, config.task, *weights))
            for value, logits in held_out.items()
        }
        chosen = min(losses, key=losses.get)
        weight, bias = fitter(chosen)(data.x, data.labels)
        linear = getattr(model, f"{name}_readout").linear
        linear.weight.data.copy_(weight)
        linear.bias.data.copy_(bias)
        log.info(
            "pooled %s read-out fitted as a probe on %d items: C=%g (out-of-fold loss %s)",
            name, len(data.x), chosen, {k: round(v, 4) for k, v in losses.items()},
        )  # fmt: skip
        for item, row in zip(data.ids, held_out[chosen], strict=True):
            if item.endswith(NOISY_COPY):  # training reads a noisy item's own read-out instead
                continue
            if item not in stacked:
                stacked[item] = torch.full((config.num_emotions, 2), float("nan"))
            stacked[item][:, column] = row
    if fitted:
        _zero_classifier(model)  # the attention path starts as a residual
    return stacked


def copy_pooled_readouts(source: torch.nn.Module, target: torch.nn.Module, modalities) -> None:
    """`target` answering from probes `source` already fitted (the `stack` candidate's: the
    read-outs' inputs have no parameters, so a refit on the same training split gives the same
    weights): its read-outs of `modalities` take `source`'s, its classifier is zeroed."""
    for name in modalities:
        fitted = getattr(source, f"{name}_readout").linear
        getattr(target, f"{name}_readout").linear.load_state_dict(fitted.state_dict())
    _zero_classifier(target)


def _zero_classifier(model: torch.nn.Module) -> None:
    torch.nn.init.zeros_(model.backbone.heads.classifier.weight)
    torch.nn.init.zeros_(model.backbone.heads.classifier.bias)
