"""The one typed output every model returns; training, evaluation, explanation, serving read it."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class HriEmoOutput:
    """Predictions and explanations of one forward pass.

    Shapes: B batch, E emotions, Lt text positions, La audio frames, d hidden size, L fused
    positions: for HriEmoModel L = Lt, the word axis; when the batch has no text at all the
    text axis is one learned placeholder (Lt = L = 1) holding the audio context it gathered.
    Single-modality baselines report attribution over their own modality (L = Lt or La).
    Explanation fields are None for models that do not produce them (see docs/architecture.md).
    """

    logits: Tensor  # (B, E)
    probabilities: Tensor  # (B, E): sigmoid (multi-label) or softmax (single-label)
    loss: Tensor | None = None  # scalar, when labels were given
    beta: Tensor | None = None  # (B, L, d) in [0,1]: 1 = audio trusted, 0 = text trusted
    beta_mean: Tensor | None = None  # (B,) mean of beta over valid positions and dimensions
    alignment: Tensor | None = None  # (B, Lt, La) text->audio attention (last fusion layer)
    attribution: Tensor | None = None  # (B, E, L) emotion->position attention (last decoder layer)
    fused_mask: Tensor | None = None  # (B, L) bool, valid fused positions
    intensity: Tensor | None = None  # (B, E) predicted 0..3 intensities (intensity head only)
    # (B, E, K) emotion->past-turn weights (newest first; model/context.py), a softmax of their
    # own: each emotion's weights sum to 1 over the turns an item has; only with context.
    context_attribution: Tensor | None = None
    # (B, E, 2) the part of each logit that the pooled read-outs of text and audio contributed
    # (already weighted by 1 - beta_mean and beta_mean); only with `pooled_readout`. The rest
    # of the logit comes from the emotion decoder, whose attention is `attribution`.
    pooled_share: Tensor | None = None
    # Additive read-out (config.additive_readout), eval mode: the exact parts of each logit.
    # words + frames + context + bias sum to `logits` (model/additive.py): what each word said
    # (B, E, Lt), what each audio frame said (B, E, La), each past turn (B, E, K), and the part
    # no position explains (B, E). Pooled read-out shares are included in words and frames.
    word_contributions: Tensor | None = None
    frame_contributions: Tensor | None = None
    context_contributions: Tensor | None = None
    bias_contribution: Tensor | None = None
    # (B, La) how clean each audio frame is, in [0, 1] (config.audio_reliability > 0 only):
    # each word's beta was scaled by the reliability of the frames it attends to.
    frame_reliability: Tensor | None = None
    # (B,) how complete each transcript is, judged by its word rate, in [0, 1] (1: not judged;
    # config.transcript_reliability > 0 only): the text's share of beta was scaled by it.
    transcript_reliability: Tensor | None = None


# A pytree node, so torch.export / torch.compile can return it (as HF does for ModelOutput).
torch.export.register_dataclass(HriEmoOutput, serialized_type_name="hri_emo.HriEmoOutput")
