"""The time prior: word i may only listen to the audio spoken while word i was said.

Text and audio carry independent positions, so nothing in a plain cross-attention ties word i
to time t: trained on emotion labels alone, every word of an utterance attends to the same few
frames (measured on the demo corpus: 14 % of words peak inside their own span, chance 13 %).
With word times (from the built-in Whisper aligner, ASR word timestamps, or a corpus) and the
audio frame times, the text->audio attention gets an additive log-prior

    bias[i, t] = -0.5 * ((centre(frame t) - centre(word i)) / (sigma + width * half(word i)))**2

a Gaussian around each word's spoken span (half(word i): half its spoken duration). With
width 0.5 its edges are at about -2 and the content attention decides anywhere in the span; with
0.25 (hriemo-v2) they are at -8 and it decides within the word's central half. Measured on the
demo's validation voices, the narrower prior places more words right (0.91 against 0.86 of
words peaking inside their true span): the aligner's span edges are less certain than its
centres.
Untimed words (NaN times) and frames without times get no prior (a zero row / column).

Dimension letters: B batch, Lt words, La audio frames.
"""

from __future__ import annotations

import torch
from torch import Tensor


def time_prior_bias(
    text_times: Tensor, audio_times: Tensor, sigma: float, width: float = 0.5
) -> Tensor:
    """(B, Lt, 2) word spans and (B, La, 2) frame spans in seconds -> (B, Lt, La) log-prior."""
    word_centre = text_times.mean(dim=-1)  # (B, Lt)
    half_width = (text_times[..., 1] - text_times[..., 0]).clamp(min=0) / 2
    frame_centre = audio_times.mean(dim=-1)  # (B, La)
    distance = frame_centre[:, None, :] - word_centre[:, :, None]  # (B, Lt, La)
    bias = -0.5 * (distance / (sigma + width * half_width[..., None])) ** 2
    return torch.nan_to_num(bias, nan=0.0)  # untimed word or frame: no prior


def prior_input(times: Tensor | None, batch: int, length: int, device) -> Tensor:
    """Times padded or cut to `length` positions (NaN where unknown); all NaN when None."""
    out = torch.full((batch, length, 2), float("nan"), device=device)
    if times is not None:
        n = min(length, times.shape[1])
        out[:, :n] = times[:, :n].to(device=device, dtype=out.dtype)
    return out
