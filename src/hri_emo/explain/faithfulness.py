"""Faithfulness of attributions, measured by deletion (Samek et al., 2017).

For an utterance and its predicted emotion, an explainer ranks the positions of one axis
(words or audio frames). Deleting the top-k positions (masking them out, as padding) and
re-running the model should lower that emotion's probability more than deleting k random
positions. The area over the perturbation curve (AOPC) is the mean fall over the deletion
steps; higher = more faithful.

Explainers share one Captum-like interface, `attribute(model, utterance, target) -> (L,)`:
`ContributionExplainer` (hriemo-v2's exact logit contributions, as results give them),
`AttentionExplainer` (the attention maps), `IntegratedGradientsExplainer` (Captum),
`ErasureExplainer` (occlusion: the logit drop when a position, or a window of them, is masked
out as padding, the masked-position analogue of inference/erasure.py) and `RandomExplainer`, so
`evaluate_faithfulness` runs over all of them unchanged.
Dimension letters: L positions of the explained axis, D feature size, S deletion steps.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from hri_emo.errors import ConfigError
from hri_emo.inference.attribution import (
    ATTRIBUTIONS,
    AXES,
    GRADIENT_NOTE,
    IntegratedGradientsExplainer,
    ModelInputs,
    check_attribution,
    input_length,
    use_gradient_attribution,
)
from hri_emo.result import against_the_others, centres_logits

__all__ = [
    "ATTRIBUTIONS",
    "GRADIENT_NOTE",
    "IntegratedGradientsExplainer",
    "ModelInputs",
    "check_attribution",
    "use_gradient_attribution",
]

FRACTIONS = (0.1, 0.2, 0.3, 0.4, 0.5)


def _centred(model: nn.Module) -> bool:
    """Whether `model`'s results read logit-unit maps against the other emotions."""
    return centres_logits(getattr(getattr(model, "config", None), "task", ""))


class _OutputMapExplainer:
    """An explainer that reads a map from the model's output on one axis ("words"/"frames")."""

    name = ""

    def __init__(self, axis: str) -> None:
        self.axis = axis

    @torch.no_grad()
    def attribute(self, model: nn.Module, utterance: ModelInputs, target: int) -> np.ndarray:
        out = model(**utterance.tensors())
        return self.read(out, target, input_length(utterance, self.axis), model)

    def read(self, out: Any, target: int, length: int, model: nn.Module) -> np.ndarray:
        raise NotImplementedError


class AttentionExplainer(_OutputMapExplainer):
    """The model's attention maps: emotion->word attribution, or for frames the attribution
    rolled out through the alignment (attribution @ alignment), as `ModelInputsExplanation` has."""

    name = "attention"

    def read(self, out: Any, target: int, length: int, model: nn.Module) -> np.ndarray:
        if out.attribution is None:
            raise ConfigError(f"{type(model).__name__} gives no attribution map")
        attribution = out.attribution[0, target]  # (L fused,)
        if self.axis == "words" or out.alignment is None:
            return attribution[:length].double().numpy()
        rows = out.alignment.shape[1]
        return (attribution[:rows] @ out.alignment[0, :rows, :length]).double().numpy()


class ContributionExplainer(_OutputMapExplainer):
    """The additive read-out's exact maps (hriemo-v2), as results give them: each word's or
    frame's signed contribution to the target's logit (model/additive.py), read against the
    other emotions for single-label models (result.py `logits_centred`); the default map.
    `centred=False`: the plain logit parts ("contribution_logit", measured for comparison)."""

    def __init__(self, axis: str, centred: bool = True) -> None:
        super().__init__(axis)
        self.centred = centred
        self.name = "contribution" if centred else "contribution_logit"

    def read(self, out: Any, target: int, length: int, model: nn.Module) -> np.ndarray:
        maps = out.word_contributions if self.axis == "words" else out.frame_contributions
        if maps is None:
            raise ConfigError(f"{type(model).__name__} gives no contribution maps")
        rows = maps[0, :, :length].double().numpy()  # (E, L)
        if self.centred and _centred(model):
            rows = against_the_others(rows, out.probabilities[0].double().numpy())
        return rows[target]


CHUNK = 64  # masked variants per forward pass


def masked_logit_drops(
    model, inputs: dict, modality: str, window: int = 1, chunk: int = CHUNK
) -> np.ndarray:
    """(E, L) logit_e(inputs) - logit_e(inputs with the window of position t masked out), for
    one item's batch-of-one `inputs` (the model's forward keywords) and its `modality`'s L valid
    positions; windows of `window` positions, `chunk` masked copies per forward pass. A window
    whose masking would leave no input at all keeps 0."""
    features = inputs[modality]
    given = inputs.get(f"{modality}_mask")
    base_mask = torch.ones(features.shape[:2], dtype=torch.bool, device=features.device)
    if given is not None:
        base_mask = given.bool()
    length = int(base_mask[0].sum())
    other = inputs.get("audio" if modality == "text" else "text") is not None
    with torch.no_grad():
        base = model(**inputs).logits[0].double().cpu().numpy()  # (E,)
        drops = np.zeros((len(base), length))
        starts = [s for s in range(0, length, window) if other or window < length]
        for first in range(0, len(starts), chunk):
            group = starts[first : first + chunk]
            masks = base_mask.repeat(len(group), 1)
            for row, start in enumerate(group):
                masks[row, start : start + window] = False
            batch = {
                k: None if v is None else v.expand(len(group), *v.shape[1:])
                for k, v in inputs.items()
            }
            batch[f"{modality}_mask"] = masks
            logits = model(**batch).logits.double().cpu().numpy()  # (G, E)
            for row, start in enumerate(group):
                drops[:, start : start + window] = (base - logits[row])[:, None]
    return drops


class ErasureExplainer:
    """Occlusion: score[k] = logit_target(all) - logit_target(window of k masked as padding),
    every window in batched forward passes (`masked_logit_drops`); each
    position gets its window's value. At model level this is the honest analogue of word
    erasure (the deletion test masks positions; it cannot re-encode a transcript)."""

    def __init__(self, axis: str, window: int = 1, name: str = "erasure") -> None:
        self.axis, self.window, self.name = axis, window, name

    @torch.no_grad()
    def attribute(self, model: nn.Module, utterance: ModelInputs, target: int) -> np.ndarray:
        inputs = utterance.tensors()
        drops = masked_logit_drops(model, inputs, AXES[self.axis], self.window)
        if _centred(model):  # read against the other emotions, as results do
            drops = against_the_others(drops, model(**inputs).probabilities[0].double().numpy())
        return drops[target]


class RandomExplainer:
    """A random ranking (the chance line)."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def attribute(self, model: nn.Module, utterance: ModelInputs, target: int) -> np.ndarray:
        del model, target
        length = max(input_length(utterance, "words"), input_length(utterance, "frames"))
        return self.rng.random(length)


@torch.no_grad()
def deletion_curve(
    model: nn.Module,
    utterance: ModelInputs,
    target: int,
    scores: np.ndarray,
    axis: str,
    fractions: Sequence[float] = FRACTIONS,
) -> np.ndarray:
    """(S,) fall of the target's probability after deleting the ceil(f·L) highest-scoring
    positions of `axis`, for each fraction f (one batched forward pass)."""
    modality = AXES[axis]
    length = input_length(utterance, axis)
    order = np.argsort(-np.asarray(scores)[:length], kind="stable")
    inputs = utterance.tensors()
    base = float(model(**inputs).probabilities[0, target])
    masks = torch.ones(len(fractions), length, dtype=torch.bool)
    for row, fraction in enumerate(fractions):
        masks[row, order[: math.ceil(fraction * length)]] = False
    batch = {
        k: None if v is None else v.expand(len(fractions), *v.shape[1:]) for k, v in inputs.items()
    }
    probs = model(**batch, **{f"{modality}_mask": masks}).probabilities[:, target]
    return base - probs.double().numpy()


def evaluate_faithfulness(
    model: nn.Module,
    utterances: Sequence[ModelInputs],
    axis: str,
    emotions: Sequence[str],
    explainers: Sequence[Any],
    fractions: Sequence[float] = FRACTIONS,
    random_draws: int = 5,
    min_length: int = 2,
) -> dict[str, Any]:
    """AOPC of each explainer (and of `random_draws` random rankings) on the predicted emotion
    (the arg-max) of every utterance with at least `min_length` positions on `axis`.

    Returns {explainer: {"aopc": mean ± std over utterances, "per_emotion": {emotion: ...},
    "curve": mean fall per fraction, "per_utterance": AOPC of each utterance (for paired
    comparisons)}} plus "utterances" and "fractions"."""
    if axis not in AXES:
        raise ConfigError(f"axis must be one of {sorted(AXES)}, got {axis!r}")
    model.eval()
    random = RandomExplainer(seed=0)
    curves: dict[str, list[np.ndarray]] = defaultdict(list)
    targets: list[int] = []
    for utterance in utterances:
        if input_length(utterance, axis) < min_length:
            continue
        with torch.no_grad():
            target = int(model(**utterance.tensors()).probabilities[0].argmax())
        targets.append(target)
        for explainer in explainers:
            scores = explainer.attribute(model, utterance, target)
            curves[explainer.name].append(
                deletion_curve(model, utterance, target, scores, axis, fractions)
            )
        draws = [
            deletion_curve(
                model,
                utterance,
                target,
                random.attribute(model, utterance, target),
                axis,
                fractions,
            )
            for _ in range(random_draws)
        ]
        curves["random"].append(np.mean(draws, axis=0))
    results: dict[str, Any] = {"utterances": len(targets), "fractions": list(fractions)}
    for name, rows in curves.items():
        results[name] = _aopc(np.stack(rows), np.array(targets), emotions)
    return results


def _aopc(curves: np.ndarray, targets: np.ndarray, emotions: Sequence[str]) -> dict[str, Any]:
    """curves (N, S) -> AOPC (mean fall over steps) as mean ± std over utterances."""
    aopc = curves.mean(axis=1)  # (N,)

    def stats(values: np.ndarray) -> dict[str, float]:
        return {"mean": float(values.mean()), "std": float(values.std()), "n": len(values)}

    per_emotion = {
        emotion: stats(aopc[targets == i])
        for i, emotion in enumerate(emotions)
        if (targets == i).any()
    }
    return {
        "aopc": stats(aopc),
        "per_emotion": per_emotion,
        "curve": curves.mean(axis=0).tolist(),
        "per_utterance": aopc.tolist(),
    }
