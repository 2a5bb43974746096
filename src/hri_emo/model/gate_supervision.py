"""Gate supervision: teach the BetaGate which modality deserves trust, from the model itself.

Trained on the emotion loss alone, the gate barely moves: on the demo corpus beta was 0.31
where the words carry the emotion and 0.62 where the voice does, and its correlation with the
benefit of audio per utterance was 0.17, although forcing beta to the better modality would
have raised accuracy from 0.64 to 0.83 (words) and 0.67 to 0.78 (voice)
(benchmarks/gate_diagnosis.py). Nothing in the loss said which modality was reliable.

With `config.gate_supervision` = lambda > 0, every training step also runs the model with beta
forced to 0 (text alone) and to 1 (audio alone), for the items that have both:

    L0, L1  = per-item task losses of the two forced branches
    target  = sigmoid((L0 - L1) / temperature)      1: audio explains the label better
    loss   += lambda * (mean(L0 + L1) / 2 + BCE(beta_mean, target))

The branch losses keep each modality's path able to answer alone; the BCE term ties the mean
gate value of each utterance to the measured benefit of each modality, so beta reads as trust.
The target is detached: the gate follows the evidence, it does not shape it. No labels of
which modality carries the emotion are used: the benefit comes from the task loss alone.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from hri_emo.model.heads import EmotionHeads, emotion_loss

TEMPERATURE = 1.0  # nats of loss difference for a target of sigmoid(1) = 0.73


def gate_supervision_loss(
    branch_logits: Callable[[float], Tensor],
    beta_mean: Tensor,
    labels: Tensor,
    both: Tensor,
    heads: EmotionHeads,
) -> Tensor:
    """The auxiliary loss; `branch_logits(value)` runs the model with beta forced to value."""
    losses = []
    for value in (0.0, 1.0):
        logits = branch_logits(value)[both]
        losses.append(
            emotion_loss(
                logits, labels[both], heads.task, heads.pos_weight, heads.class_weights, True
            )
        )
    text_loss, audio_loss = losses
    target = torch.sigmoid((text_loss - audio_loss) / TEMPERATURE).detach()
    gate = F.binary_cross_entropy(beta_mean[both].clamp(1e-6, 1 - 1e-6), target)
    return 0.5 * (text_loss + audio_loss).mean() + gate
