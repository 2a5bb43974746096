"""Modality dropout: during training, hide the whole text or the whole audio of some items.

A model trained this way still answers when a modality is missing at inference (no
transcript, or no recording). An item never loses both modalities, and a modality is only
dropped when the item has the other one.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor

from hri_emo.data.batch import Batch


def choose_dropped(
    has_text: Tensor, has_audio: Tensor, p_text: float, p_audio: float, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Which items lose their text / audio, each (B,) bool.

    Text is dropped with probability `p_text`, audio with `p_audio`, independently; when both
    draws fire for one item, a fair coin keeps one of the two. Only items that have both
    modalities are eligible.
    """
    size = has_text.shape[0]
    draws = torch.rand(3, size, generator=generator)  # text, audio, coin
    eligible = has_text & has_audio
    drop_text = eligible & (draws[0] < p_text)
    drop_audio = eligible & (draws[1] < p_audio)
    both = drop_text & drop_audio
    keep_text = both & (draws[2] < 0.5)
    return drop_text & ~keep_text, drop_audio & ~(both & ~keep_text)


def _mask_out(features: Tensor, mask: Tensor, dropped: Tensor) -> tuple[Tensor, Tensor]:
    new_mask = mask & ~dropped[:, None]  # (B, L)
    return features * new_mask[..., None].to(features.dtype), new_mask


def apply_modality_dropout(
    batch: Batch, p_text: float, p_audio: float, generator: torch.Generator
) -> Batch:
    """A copy of `batch` where dropped items have an all-False mask (and zero features) for the
    dropped modality. A modality dropped for every item becomes None."""
    if batch.text is None or batch.audio is None or (p_text == 0 and p_audio == 0):
        return batch
    has_text, has_audio = batch.text_mask.any(dim=1), batch.audio_mask.any(dim=1)  # (B,)
    drop_text, drop_audio = choose_dropped(
        has_text.cpu(), has_audio.cpu(), p_text, p_audio, generator
    )
    drop_text, drop_audio = drop_text.to(has_text.device), drop_audio.to(has_text.device)
    text, text_mask = _mask_out(batch.text, batch.text_mask, drop_text)
    audio, audio_mask = _mask_out(batch.audio, batch.audio_mask, drop_audio)
    if not text_mask.any():
        text, text_mask = None, None
    if not audio_mask.any():
        audio, audio_mask = None, None
    return replace(batch, text=text, text_mask=text_mask, audio=audio, audio_mask=audio_mask)
