"""`FusionWithEmotionDecoder`: fusion blocks + BetaGate + EmotionDecoder + heads.

It works on already-projected tensors, so the same backbone serves any input encoders.
Dimension letters: B batch, Lt text positions, La audio frames, E emotions, H attention heads,
d hidden size.

With `config.additive_readout` the logits are read out additively (model/additive.py), and in
eval mode the backbone also returns each logit's exact split over words and frames.
With `config.decoder_logits` False its logits and their split are zero (the model's pooled
read-outs answer alone); the decoder still runs for its attention and the intensities.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from hri_emo.model.additive import Contributions, additive_logits, split_contributions
from hri_emo.model.beta_gate import BetaGate
from hri_emo.model.config import HriEmoConfig
from hri_emo.model.cross_modal import build_fusion_stack
from hri_emo.model.decoder import EmotionDecoder
from hri_emo.model.heads import EmotionHeads
from hri_emo.model.reliability import word_reliability


@dataclass
class BackboneOutput:
    """What the backbone computes; the model wraps it into an `HriEmoOutput`."""

    logits: Tensor  # (B, E)
    intensity: Tensor | None  # (B, E)
    beta: Tensor  # (B, Lt, d)
    alignment: Tensor  # (B, Lt, La)
    attribution: Tensor  # (B, E, Lt)
    contributions: Contributions | None = None  # additive read-out, eval mode


class FusionWithEmotionDecoder(nn.Module):
    """The HRI-EMO core on projected (B, L, d) sequences; the fused axis is the text axis.

    Both masks must have at least one valid position per item (HriEmoModel guarantees this
    with placeholder tokens); `has_text` / `has_audio` (B,) say which items really have each
    modality, so that the BetaGate relies fully on the one present.
    """

    def __init__(self, config: HriEmoConfig) -> None:
        super().__init__()
        self.fusion = build_fusion_stack(config)
        self.gate = BetaGate(config.hidden_dim)
        self.decoder = EmotionDecoder(config)
        self.heads = EmotionHeads(config)
        self.additive = config.additive_readout
        self.decoder_logits = config.decoder_logits  # False: the pooled read-outs answer alone

    def forward(
        self,
        text: Tensor,
        text_mask: Tensor,
        audio: Tensor,
        audio_mask: Tensor,
        has_text: Tensor,
        has_audio: Tensor,
        *,
        time_bias: Tensor | None = None,
        force_beta: float | None = None,
        frame_reliability: Tensor | None = None,
        text_reliability: Tensor | None = None,
    ) -> BackboneOutput:
        """`time_bias` (B, Lt, La): the time prior of the text->audio attention
        (model/time_prior.py). `force_beta`: the gate's value fixed (gate supervision's forced
        branches). `frame_reliability` (B, La): how clean each audio frame is
        (model/reliability.py); each word's beta is scaled by the reliability of the frames it
        attends to (no gradient: only its own loss trains it).
        `text_reliability` (B,): how complete each transcript is; a low one lets the voice in."""
        last = len(self.fusion) - 1
        wanted = "heads" if self.additive else True
        for index, block in enumerate(self.fusion):
            text, audio, audio_context, alignment = block(
                text, text_mask, audio, audio_mask, wanted if index == last else False, time_bias
            )
        head_alignment = alignment if self.additive else None  # (B, H, Lt, La)
        if self.additive:
            alignment = alignment.mean(dim=1)
        reliability = None
        if frame_reliability is not None:
            reliability = word_reliability(alignment, frame_reliability).detach()  # (B, Lt)
        fused, beta = self.gate(
            audio_context, text, text_mask, has_text, has_audio,
            force=force_beta, reliability=reliability, text_reliability=text_reliability,
        )  # fmt: skip
        emotion_states, attention = self.decoder(fused, text_mask)  # (B, E, d), (B, E, Lt)
        logits, intensity = self.heads(emotion_states)
        contributions = None
        if self.additive:
            logits = additive_logits(attention, fused, self.heads.classifier)
            if not self.training and force_beta is None:
                values = self.fusion[last].text_to_audio
                contributions = split_contributions(
                    attention, text, beta, head_alignment, values, audio,
                    self.heads.classifier,
                ) if self.decoder_logits else Contributions.zeros(logits, text, audio)  # fmt: skip
        if not self.decoder_logits:
            logits = torch.zeros_like(logits)
        # No audio -> nothing to align to; padded text positions align to nothing.
        row_valid = text_mask & has_audio[:, None]  # (B, Lt)
        alignment = alignment * row_valid[..., None]  # (B, Lt, La)
        return BackboneOutput(
            logits,
            intensity,
            beta,
            alignment,
            attention,
            contributions,
        )
