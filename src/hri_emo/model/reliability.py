"""Audio reliability: how clean each audio frame is, and so how far each word may trust the voice.

Measured why the gate alone did not turn away from noise (docs/robustness.md): nothing in its
inputs says "this audio is noisy", and the emotion loss rarely rewards turning away (on EmoDB the
text carries nothing, on the demo the voice-carried items need the voice however noisy). So
reliability is learned as its own quantity, from a measurable target: training items read from
a noisy copy of the audio (`hri-emo extract-noisy`, which records each item's SNR) teach a small
head on the projected audio frames

    r_k = sigmoid(MLP(audio frame k))  ~  clip((SNR - LOW_DB) / (HIGH_DB - LOW_DB), 0, 1)

(clean items: 1; audio replaced by noise: 0) with a binary cross-entropy weighted by
`config.audio_reliability`. Each word's reliability is the average of r over the frames it
attends to (the text->audio alignment, which the time prior ties to the word's own span), and
the gate becomes

    beta_j = rho_j * sigmoid(W [a_ctx_j ; t_j] + b),   rho_j = sum_k A[j, k] r_k

so beta is "how much this word's voice may be trusted" times "how much the model wants it".
It stays vector-wise and per word, a noisy half of a recording lowers beta on the words spoken
there, and every map stays exact: beta is still one (B, Lt, d) tensor the fused state is built
from (model/additive.py treats it as given, as before).

Dimension letters: B batch, Lt words, La audio frames, d hidden size.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from hri_emo.model.layers import normalize_layers

LOW_DB, HIGH_DB = -5.0, 25.0  # SNR with no usable voice / as good as clean


def reliability_target(snr_db: Tensor) -> Tensor:
    """(B,) SNR in dB (+inf clean, -inf noise only, NaN unknown) -> (B,) target in [0, 1]
    (NaN stays NaN: no target)."""
    target = (snr_db - LOW_DB) / (HIGH_DB - LOW_DB)
    return torch.where(snr_db.isnan(), snr_db, target.clamp(0.0, 1.0))


class AudioReliability(nn.Module):
    """(B, La, K*D') raw audio features + (B, La) mask -> (B, La) reliability in (0, 1).

    It reads the encoder's features (layer-normalised per encoder layer, as the pooled read-out
    does), not the emotion path's projection, and only its own loss trains it: the gate uses r
    without gradient, so the emotion loss cannot bend "reliable" into "useful"."""

    def __init__(self, in_dim: int, num_layers: int, hidden_dim: int) -> None:
        super().__init__()
        self.num_layers = num_layers
        self.head = nn.Sequential(
            nn.Linear(in_dim, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, 1)
        )
        nn.init.constant_(self.head[-1].bias, math.log(9.0))  # starts near 0.9: trust as before

    def frame_inputs(self, features: Tensor, mask: Tensor) -> Tensor:
        """(B, La, K*D') the head's input: per-layer layer-normalised frames, zero at padding."""
        features = features.masked_fill(~mask[..., None], 0.0)  # padding (even NaN) never enters
        return normalize_layers(features, self.num_layers).flatten(-2)

    def forward(self, features: Tensor, mask: Tensor) -> Tensor:
        x = self.frame_inputs(features, mask)
        return torch.sigmoid(self.head(x)).squeeze(-1).masked_fill(~mask, 0.0)

    def loss(self, frames: Tensor, mask: Tensor, present: Tensor, snr_db: Tensor) -> Tensor:
        """Mean BCE of the frames' reliability (B, La) against their item's target, over valid
        frames of items that have audio and a known SNR; 0 when none has."""
        target = reliability_target(snr_db.to(frames))  # (B,)
        use = mask & present[:, None] & ~target.isnan()[:, None]  # (B, La)
        if not use.any():
            return frames.sum() * 0.0
        expanded = target[:, None].expand_as(frames)
        return F.binary_cross_entropy(frames[use].clamp(1e-6, 1 - 1e-6), expanded[use])


class TextReliability(nn.Module):
    """How complete the transcript is, judged by its word rate against the recording:
    (B,) words and (B,) seconds of audio -> (B,) reliability in (0, 1).

    Dropped words (an ASR that missed them, a cut transcript) leave fewer words per second of
    speech than the corpus's speakers say; nothing in the words alone shows it, since the text
    encoder reads a shorter transcript as just another sentence. The head is a logistic curve
    on the standardised log word rate, z = (log(words / s) - mean) / std, where mean and std are
    running statistics of the training transcripts (buffers, as batch norm keeps them). `loss`
    trains it on the batch's own transcripts (target 1) and on the same items with a random
    fraction of their words removed (target: the fraction kept), so it needs no corrupted data
    and learns each corpus's own speaking rate. It sees counts only: substituted words (same
    count) are not detected, and a very slow speaker reads as a little less complete."""

    def __init__(self, momentum: float = 0.05) -> None:
        super().__init__()
        self.momentum = momentum
        self.slope = nn.Parameter(torch.tensor(1.5))
        self.bias = nn.Parameter(torch.tensor(3.0))  # z = 0 -> 0.95: an average rate is trusted
        self.register_buffer("rate_mean", torch.tensor(0.0))
        self.register_buffer("rate_std", torch.tensor(1.0))
        self.register_buffer("updates", torch.tensor(0))

    @staticmethod
    def log_rate(words: Tensor, seconds: Tensor) -> Tensor:
        return torch.log(words.clamp(min=1).float() / seconds.float().clamp(min=1e-2))

    def forward(self, words: Tensor, seconds: Tensor) -> Tensor:
        z = (self.log_rate(words, seconds) - self.rate_mean) / self.rate_std
        return torch.sigmoid(self.slope * z + self.bias)

    @torch.no_grad()
    def update_statistics(self, words: Tensor, seconds: Tensor) -> None:
        """Running mean / std of the log word rate of complete training transcripts."""
        if len(words) < 2:
            return
        rate = self.log_rate(words, seconds)
        keep = 1.0 if int(self.updates) == 0 else self.momentum
        self.rate_mean.lerp_(rate.mean().to(self.rate_mean), keep)
        self.rate_std.lerp_(rate.std().clamp(min=1e-3).to(self.rate_std), keep)
        self.updates += 1

    def loss(self, words: Tensor, seconds: Tensor, use: Tensor) -> Tensor:
        """BCE on the items `use` (B,) bool (text and audio present): as given (target 1) and
        with a uniformly drawn fraction of their words kept (at least one; target: that
        fraction); updates the running statistics first. 0 when no item has both."""
        if not use.any():
            return self.bias * 0.0
        words, seconds = words[use].float(), seconds[use].float()
        self.update_statistics(words, seconds)
        keep = torch.rand(words.shape).to(words) * 0.9 + 0.1
        kept = torch.maximum(torch.round(words * keep), torch.ones_like(words))
        predicted = self(torch.cat([words, kept]), torch.cat([seconds, seconds]))
        target = torch.cat([torch.ones_like(words), kept / words])
        return F.binary_cross_entropy(predicted.clamp(1e-6, 1 - 1e-6), target)


def recorded_seconds(times: Tensor, mask: Tensor) -> Tensor:
    """(B, La, 2) frame spans in seconds + (B, La) mask -> (B,) seconds from the first valid
    frame's start to the last one's end (NaN where the frames have no times)."""
    valid = mask[..., None].to(times.device) & ~times.isnan()
    start = times[..., 0].masked_fill(~valid[..., 0], float("inf")).amin(dim=1)
    end = times[..., 1].masked_fill(~valid[..., 1], float("-inf")).amax(dim=1)
    seconds = end - start
    return torch.where(seconds.isfinite() & (seconds > 0), seconds, torch.nan)


def word_reliability(alignment: Tensor, frames: Tensor) -> Tensor:
    """(B, Lt, La) text->audio attention and (B, La) frame reliability -> (B, Lt)."""
    return (alignment * frames[:, None, :]).sum(dim=-1)
