"""Check and normalise what a user passes to a model's forward(), with errors that say what's wrong.

Every model calls `prepare_inputs` and `check_targets` first, so bad input never crashes deep
inside torch. Shape checks always run; checks on tensor *values* (NaN, items without any
modality, class range) run in eager mode only, so that tracing, `torch.compile` and
`torch.export` (ONNX) see no data-dependent branches.
Dimension letters: B batch, L positions, D feature size, E emotions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from hri_emo.errors import InputShapeError
from hri_emo.model.config import HriEmoConfig


@dataclass
class ModalityInput:
    """One modality as the network sees it: (B, L, D) features, (B, L) bool mask, (B,) presence."""

    features: Tensor
    mask: Tensor
    present: Tensor  # (B,) bool: the item has at least one real position


def _checking_values() -> bool:
    """False while tracing, compiling or exporting (value checks would be graph breaks)."""
    compiler = torch.compiler
    return not (torch.jit.is_tracing() or compiler.is_compiling() or compiler.is_exporting())


def _items(flags: Tensor) -> list[int]:
    return flags.nonzero().flatten().tolist()


def _as_sequence(name: str, features: Tensor, expected_dim: int) -> Tensor:
    if not isinstance(features, Tensor):
        raise InputShapeError(
            f"{name} features must be a torch.Tensor, got {type(features).__name__}"
        )
    if features.dim() not in (2, 3):
        raise InputShapeError(
            f"{name} features must be (B, L, {expected_dim}) or (B, {expected_dim}), "
            f"got a {features.dim()}-D tensor of shape {tuple(features.shape)}"
        )
    if features.shape[-1] != expected_dim:
        raise InputShapeError(
            f"{name} features have dim {features.shape[-1]} but the model expects "
            f"{name}_dim={expected_dim} (shape {tuple(features.shape)})"
        )
    if not features.is_floating_point():
        raise InputShapeError(f"{name} features must be floating point, got {features.dtype}")
    return features if features.dim() == 3 else features[:, None, :]  # (B, L, D)


def _as_mask(name: str, mask: Tensor | None, features: Tensor) -> Tensor:
    batch, length = features.shape[:2]
    if mask is None:
        return torch.ones(batch, length, dtype=torch.bool, device=features.device)
    if not isinstance(mask, Tensor) or mask.is_floating_point() or mask.is_complex():
        found = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise InputShapeError(
            f"{name}_mask must be a bool tensor (True = real position), got {found}"
        )
    if mask.dim() == 1 and length == 1:
        mask = mask[:, None]  # pooled features: one flag per item
    if tuple(mask.shape) != (batch, length):
        raise InputShapeError(
            f"{name}_mask has shape {tuple(mask.shape)} but {name} features have "
            f"(B, L) = {(batch, length)}"
        )
    return mask.to(device=features.device, dtype=torch.bool)


def prepare_modality(
    name: str, features: Tensor | None, mask: Tensor | None, expected_dim: int
) -> ModalityInput | None:
    """Validate one modality; None when it is absent (or has zero positions) for the whole batch."""
    if features is None:
        if mask is not None:
            raise InputShapeError(f"{name}_mask was given but {name} features are None")
        return None
    features = _as_sequence(name, features, expected_dim)
    mask = _as_mask(name, mask, features)
    if features.shape[1] == 0:
        return None
    if _checking_values():
        _check_finite(name, features, mask)
    return ModalityInput(features, mask, mask.any(dim=-1))


def _check_finite(name: str, features: Tensor, mask: Tensor) -> None:
    """Raise naming the items whose real positions hold NaN or Inf."""
    # One reduction instead of an element-wise isfinite pass: a NaN or Inf makes its row sum
    # non-finite (so do finite values so large that their sum overflows, also unusable).
    bad = (~torch.isfinite(features.sum(dim=-1)) & mask).any(dim=-1)  # (B,)
    if bad.any():
        raise InputShapeError(
            f"{name} features contain NaN or Inf (or values overflowing float range) at real "
            f"(unmasked) positions of batch item(s) {_items(bad)}"
        )


def prepare_inputs(
    config: HriEmoConfig,
    text: Tensor | None,
    text_mask: Tensor | None,
    audio: Tensor | None,
    audio_mask: Tensor | None,
) -> tuple[ModalityInput | None, ModalityInput | None, int]:
    """Validate both modalities; return (text, audio, batch size). At least one must be given."""
    text_input = prepare_modality("text", text, text_mask, config.text_dim)
    audio_input = prepare_modality("audio", audio, audio_mask, config.audio_dim)
    sizes = {name: x.shape[0] for name, x in (("text", text), ("audio", audio)) if x is not None}
    if not sizes:
        raise InputShapeError("the model needs text or audio features (both are None)")
    # no set(): batch sizes are symbolic while exporting (a set would specialise them)
    if len(sizes) == 2 and sizes["text"] != sizes["audio"]:
        raise InputShapeError(
            f"text and audio have different batch sizes: {sizes['text']} and {sizes['audio']}"
        )
    return text_input, audio_input, next(iter(sizes.values()))


def require_any_modality(
    text: ModalityInput | None, audio: ModalityInput | None, batch_size: int
) -> None:
    """Raise for items that have neither text nor audio (nothing to answer from)."""
    if not _checking_values():
        return
    device = (text or audio).features.device
    none = torch.zeros(batch_size, dtype=torch.bool, device=device)
    present = (text.present if text else none) | (audio.present if audio else none)
    if not present.all():
        raise InputShapeError(
            f"batch item(s) {_items(~present)} have neither text nor audio "
            "(all-False masks or missing modalities); the model cannot answer for them"
        )


def require_modality(name: str, modality: ModalityInput | None, model_name: str) -> ModalityInput:
    """Raise unless every item has `name` (for single-modality models)."""
    if modality is None:
        raise InputShapeError(f"{model_name} needs {name} features, but {name} is None")
    if _checking_values() and not modality.present.all():
        raise InputShapeError(
            f"{model_name} needs {name} for every item, but batch item(s) "
            f"{_items(~modality.present)} have an all-False {name}_mask"
        )
    return modality


def check_targets(
    config: HriEmoConfig, labels: Tensor | None, intensities: Tensor | None, batch_size: int
) -> None:
    """Labels: (B, E) float 0/1 (multilabel) or (B,) class indices (singlelabel)."""
    emotions = config.num_emotions
    if labels is not None:
        if config.task == "multilabel":
            ok = labels.is_floating_point() and tuple(labels.shape) == (batch_size, emotions)
            expected = f"a float tensor of shape (B, E) = {(batch_size, emotions)}"
        else:
            ok = not labels.is_floating_point() and tuple(labels.shape) == (batch_size,)
            ok = ok and labels.dtype != torch.bool
            expected = f"an integer tensor of class indices of shape (B,) = ({batch_size},)"
        if not ok:
            raise InputShapeError(
                f"labels must be {expected} for task {config.task!r}, "
                f"got shape {tuple(labels.shape)} dtype {labels.dtype}"
            )
        if config.task == "singlelabel" and _checking_values():
            _check_class_range(labels, config)
    if intensities is not None and (
        not intensities.is_floating_point() or tuple(intensities.shape) != (batch_size, emotions)
    ):
        raise InputShapeError(
            f"intensities must be a float tensor of shape (B, E) = {(batch_size, emotions)}, "
            f"got shape {tuple(intensities.shape)} dtype {intensities.dtype}"
        )


def _check_class_range(labels: Tensor, config: HriEmoConfig) -> None:
    if ((labels < 0) | (labels >= config.num_emotions)).any():
        raise InputShapeError(
            f"singlelabel class indices must lie in [0, {config.num_emotions}) for emotions "
            f"{config.emotions}, got values {sorted(set(labels.tolist()))}"
        )
