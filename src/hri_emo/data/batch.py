"""The padded batch that every model consumes: tensors plus boolean masks, computed once."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import Tensor


@dataclass
class Batch:
    """A collated batch. Masks are boolean with True marking a real (non-padding) position.

    A modality that no item in the batch has is None; an item missing a modality that others
    have gets an all-False mask row. For single-label tasks `labels` is (B,) long class
    indices; for multi-label tasks (B, E) float 0/1 targets.
    """

    ids: list[str]
    text: Tensor | None = None  # (B, Lt, Dt)
    text_mask: Tensor | None = None  # (B, Lt) bool
    audio: Tensor | None = None  # (B, La, Da)
    audio_mask: Tensor | None = None  # (B, La) bool
    labels: Tensor | None = None  # (B, E) float or (B,) long
    intensities: Tensor | None = None  # (B, E) float, MOSEI-style 0..3 scores
    raw_text: list[str] | None = None  # the transcripts, for end-to-end text fine-tuning
    tokens: list[list[str]] | None = None  # word strings per text position
    frame_times: list[np.ndarray] | None = None  # (La_i, 2) start/end seconds per audio frame
    context: Tensor | None = None  # (B, K, Dt) pooled text of past turns, newest first
    context_mask: Tensor | None = None  # (B, K) bool
    context_same_speaker: Tensor | None = None  # (B, K) bool
    context_ids: list[list[str]] | None = None  # utterance ids of the past turns
    context_audio: Tensor | None = None  # (B, K, Da) pooled audio of the past turns
    context_audio_mask: Tensor | None = None  # (B, K) bool: the turn has audio
    context_text_mask: Tensor | None = None  # (B, K) bool: the turn has text (with context_audio)
    text_times: Tensor | None = None  # (B, Lt, 2) seconds each word was spoken, NaN unknown
    audio_times: Tensor | None = None  # (B, La, 2) seconds of each audio frame, NaN unknown
    audio_snr: Tensor | None = None  # (B,) SNR of each item's audio, dB (+inf clean, NaN unknown)

    def __len__(self) -> int:
        return len(self.ids)

    def to(self, device: torch.device | str) -> Batch:
        """Move every tensor to `device` (non-tensors are shared)."""
        moved = {
            f.name: (v.to(device) if isinstance(v := getattr(self, f.name), Tensor) else v)
            for f in fields(self)
        }
        return Batch(**moved)

    def model_inputs(self, times: bool = False) -> dict[str, Tensor | None]:
        """Keyword arguments for a model's forward() (context ones only when there is context;
        word and frame times when `times`, for models that take them)."""
        context = {}
        if times:
            context = {"text_times": self.text_times, "audio_times": self.audio_times}
        if self.context is not None:
            context |= {
                "context": self.context,
                "context_mask": self.context_mask,
                "context_same_speaker": self.context_same_speaker,
            }
        if self.context_audio is not None:
            context |= {
                "context_audio": self.context_audio,
                "context_audio_mask": self.context_audio_mask,
                "context_text_mask": self.context_text_mask,
            }
        return {
            "text": self.text,
            "text_mask": self.text_mask,
            "audio": self.audio,
            "audio_mask": self.audio_mask,
            "labels": self.labels,
            "intensities": self.intensities,
            **context,
        }
