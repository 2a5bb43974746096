"""collate_batch: pad a list of EmotionItems into one Batch with boolean masks (True = real).

Each modality is padded with zeros to the longest item in the batch (at least length 1, so the
tensors stay valid). A modality that no item has is None; an item that lacks a modality others
have gets a zero row with an all-False mask. Multi-label targets stack to (B, E) float,
single-label targets to (B,) long.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from hri_emo.data.batch import Batch
from hri_emo.data.dataset import EmotionItem
from hri_emo.errors import DataError, FeatureMismatchError


def collate_batch(items: Sequence[EmotionItem]) -> Batch:
    """Pad `items` into a Batch (the DataLoader's collate_fn)."""
    if not items:
        raise DataError("cannot collate an empty list of items")
    ids = [item.id for item in items]
    text, text_mask = pad_sequences([item.text for item in items], ids, "text")
    audio, audio_mask = pad_sequences([item.audio for item in items], ids, "audio")
    context, context_mask = pad_sequences([item.context for item in items], ids, "context")
    same_speaker = _turn_flags(items, context_mask, "context_same_speaker")
    context_audio, _ = pad_sequences([item.context_audio for item in items], ids, "context audio")
    context_audio_mask = context_text_mask = None
    if context_audio is not None:
        context_audio_mask = _turn_flags(items, context_mask, "context_audio_present")
        context_text_mask = _turn_flags(items, context_mask, "context_text_present")
    return Batch(
        ids=ids,
        text=text,
        text_mask=text_mask,
        audio=audio,
        audio_mask=audio_mask,
        labels=_stack_targets(items),
        intensities=_stack_optional([item.intensities for item in items], ids, "intensities"),
        raw_text=_list_or_none([item.raw_text for item in items], ""),
        tokens=_list_or_none([item.tokens for item in items], []),
        frame_times=_list_or_none([item.frame_times for item in items], np.zeros((0, 2))),
        context=context,
        context_mask=context_mask,
        context_same_speaker=same_speaker,
        context_ids=_list_or_none([item.context_ids for item in items], []),
        context_audio=context_audio,
        context_audio_mask=context_audio_mask,
        context_text_mask=context_text_mask,
        text_times=pad_times([item.word_times for item in items], text_mask),
        audio_times=pad_times([item.frame_times for item in items], audio_mask),
        audio_snr=_snr([item.audio_snr for item in items]),
    )


def _turn_flags(items: Sequence[EmotionItem], mask: Tensor | None, name: str) -> Tensor | None:
    """(B, K) bool from each item's (K_i,) flags `name` (False where an item has none)."""
    if mask is None:
        return None
    flags = torch.zeros_like(mask)  # (B, K)
    for row, item in enumerate(items):
        values = getattr(item, name)
        if values is not None:
            flags[row, : len(values)] = torch.from_numpy(values)
    return flags


def _snr(values: Sequence[float | None]) -> torch.Tensor | None:
    """(B,) SNR of each item's audio in dB (+inf clean, NaN unknown); None when no item says."""
    if all(v is None for v in values):
        return None
    return torch.tensor([float("nan") if v is None else v for v in values], dtype=torch.float32)


def pad_times(times: Sequence[np.ndarray | None], mask: Tensor | None) -> Tensor | None:
    """(B, L, 2) seconds per position, NaN where unknown (padding, an item without times);
    None when no item has times."""
    if mask is None or all(t is None for t in times):
        return None
    out = torch.full((*mask.shape, 2), float("nan"))
    for row, item_times in enumerate(times):
        if item_times is not None:
            n = min(len(item_times), mask.shape[1])
            out[row, :n] = torch.from_numpy(np.asarray(item_times[:n], dtype=np.float32))
    return out


def pad_sequences(
    arrays: Sequence[np.ndarray | None], ids: Sequence[str], name: str
) -> tuple[Tensor | None, Tensor | None]:
    """Zero-pad (L_i, D) arrays (None = absent) to (B, L, D) float32 plus a (B, L) bool mask."""
    present = [a for a in arrays if a is not None]
    if not present:
        return None, None
    dims = {a.shape[-1] for a in present}
    if len(dims) > 1 or any(a.ndim != 2 for a in present):
        shapes = {i: tuple(a.shape) for i, a in zip(ids, arrays) if a is not None}
        raise FeatureMismatchError(
            f"{name} features in one batch must be (L, D) with one D: {shapes}"
        )
    max_len = max(1, *(a.shape[0] for a in present))
    padded = torch.zeros(len(arrays), max_len, dims.pop())  # (B, L, D)
    mask = torch.zeros(len(arrays), max_len, dtype=torch.bool)  # (B, L)
    for row, array in enumerate(arrays):
        if array is not None:
            padded[row, : array.shape[0]] = torch.from_numpy(np.asarray(array, dtype=np.float32))
            mask[row, : array.shape[0]] = True
    return padded, mask


def _stack_targets(items: Sequence[EmotionItem]) -> Tensor | None:
    targets = [item.target for item in items]
    if all(t is None for t in targets):
        return None
    if any(t is None for t in targets):
        unlabelled = [item.id for item in items if item.target is None]
        raise DataError(
            f"batch mixes labelled and unlabelled utterances: {unlabelled} have no target"
        )
    stacked = np.stack(targets)
    if stacked.ndim == 1:
        return torch.from_numpy(stacked.astype(np.int64))  # (B,) class indices
    return torch.from_numpy(stacked.astype(np.float32))  # (B, E)


def _stack_optional(
    values: Sequence[np.ndarray | None], ids: Sequence[str], name: str
) -> Tensor | None:
    if any(v is None for v in values):
        return None
    shapes = {v.shape for v in values}
    if len(shapes) > 1:
        raise DataError(
            f"{name} of one batch differ in shape: {dict(zip(ids, (v.shape for v in values)))}"
        )
    return torch.from_numpy(np.stack(values).astype(np.float32))


def _list_or_none(values: list, fill: object) -> list | None:
    """The per-item list, `fill` for items without a value; None when no item has one."""
    if all(v is None for v in values):
        return None
    return [fill if v is None else v for v in values]
