"""Baselines behind the same interface and output type as `HriEmoModel`.

- `TextOnlyModel` / `AudioOnlyModel`: projection + self-attention encoder + emotion decoder.
  They report `attribution` over their one modality (fused axis = that modality) and a
  constant `beta_mean` (0 = text only, 1 = audio only); beta and alignment are None.
- `EarlyFusionModel`: masked-mean pooled text and audio, concatenated, through an MLP. No
  explanation fields (all None).
- `LateFusionModel`: a text-only and an audio-only branch whose logits are averaged with a
  learned audio weight w; `beta_mean` reports w per item (1 = no text, 0 = no audio).

`num_fusion_layers` is the depth of the single-modality encoders. Dimension letters:
B batch, L positions, E emotions, d hidden size.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

import torch
from torch import Tensor, nn

from hri_emo.model.config import HriEmoConfig
from hri_emo.model.decoder import EmotionDecoder
from hri_emo.model.heads import EmotionHeads
from hri_emo.model.inputs import (
    ModalityInput,
    prepare_inputs,
    prepare_modality,
    require_any_modality,
    require_modality,
)
from hri_emo.model.layers import ModalityProjection, SelfAttentionLayer, masked_mean
from hri_emo.model.output import HriEmoOutput
from hri_emo.model.pretrained import HriEmoPreTrainedModel

Given = tuple[Tensor | None, Tensor | None]  # one modality as passed to forward: (features, mask)
Prepared = tuple[ModalityInput | None, ModalityInput | None, int]  # (text, audio, batch size)


class BaselineModel(HriEmoPreTrainedModel):
    """The baselines' one forward: `_inputs` validates the features, the targets are checked,
    then `_forward_checked` computes the output from the validated inputs."""

    def forward(
        self,
        text: Tensor | None = None,
        text_mask: Tensor | None = None,
        audio: Tensor | None = None,
        audio_mask: Tensor | None = None,
        labels: Tensor | None = None,
        intensities: Tensor | None = None,
    ) -> HriEmoOutput:
        text_in, audio_in, batch = self._inputs((text, text_mask), (audio, audio_mask))
        self._check_targets(labels, intensities, batch)
        return self._forward_checked((text_in, audio_in, batch), labels, intensities)

    def _inputs(self, text: Given, audio: Given) -> Prepared:
        """Both modalities validated; every item needs at least one of them."""
        text_in, audio_in, batch = prepare_inputs(self.config, *text, *audio)
        require_any_modality(text_in, audio_in, batch)
        return text_in, audio_in, batch

    def _forward_checked(
        self, inputs: Prepared, labels: Tensor | None, intensities: Tensor | None
    ) -> HriEmoOutput:
        """The output from validated inputs (targets already checked)."""
        raise NotImplementedError


class SingleModalityModel(BaselineModel):
    """Shared body of the text-only and audio-only baselines; other modalities are ignored."""

    modality: ClassVar[str] = ""

    def __init__(self, config: HriEmoConfig) -> None:
        super().__init__(config)
        d = config.hidden_dim
        in_dim = config.text_dim if self.modality == "text" else config.audio_dim
        layers = config.text_layers if self.modality == "text" else config.audio_layers
        self.projection = ModalityProjection(
            in_dim, d, config.input_dropout, config.positional, layers
        )
        self.encoder = nn.ModuleList(
            SelfAttentionLayer(
                d, config.num_heads, config.ff_mult, config.dropout, config.attention_dropout
            )
            for _ in range(config.num_fusion_layers)
        )
        self.decoder = EmotionDecoder(config)
        self.heads = EmotionHeads(config)

    def predict(self, modality: ModalityInput) -> tuple[Tensor, Tensor | None, Tensor]:
        """(logits (B, E), intensity (B, E) | None, attribution (B, E, L)); items without the
        modality get finite but meaningless values (callers must not use them)."""
        mask = modality.mask
        x = self.projection(modality.features, mask)  # (B, L, d)
        for layer in self.encoder:
            x = layer(x, mask)
        states, attribution = self.decoder(x, mask)  # (B, E, d), (B, E, L)
        logits, intensity = self.heads(states)
        return logits, intensity, attribution

    def _inputs(self, text: Given, audio: Given) -> Prepared:
        """Only this model's modality is validated (the other is ignored); every item needs it."""
        is_text = self.modality == "text"
        features, mask = text if is_text else audio
        expected_dim = self.config.text_dim if is_text else self.config.audio_dim
        modality = prepare_modality(self.modality, features, mask, expected_dim)
        modality = require_modality(self.modality, modality, type(self).__name__)
        batch = modality.features.shape[0]
        return (modality, None, batch) if is_text else (None, modality, batch)

    def _forward_checked(
        self, inputs: Prepared, labels: Tensor | None, intensities: Tensor | None
    ) -> HriEmoOutput:
        text, audio, batch = inputs
        modality = text if self.modality == "text" else audio
        logits, intensity, attribution = self.predict(modality)
        audio_share = 0.0 if self.modality == "text" else 1.0
        return self._output(
            self.heads,
            logits,
            intensity,
            labels,
            intensities,
            beta_mean=torch.full((batch,), audio_share, device=logits.device),
            attribution=attribution,
            fused_mask=modality.mask,
        )


class TextOnlyModel(SingleModalityModel):
    """Text features only (audio is ignored); every item needs text."""

    architecture = "text_only"
    required_modalities = ("text",)
    modality = "text"


class AudioOnlyModel(SingleModalityModel):
    """Audio features only (text is ignored); every item needs audio."""

    architecture = "audio_only"
    required_modalities = ("audio",)
    modality = "audio"


class EarlyFusionModel(BaselineModel):
    """Masked-mean pooled text and audio, concatenated -> MLP -> heads.

    A missing modality is replaced by a learned placeholder vector.
    """

    architecture = "early_fusion"

    def __init__(self, config: HriEmoConfig) -> None:
        super().__init__(config)
        d, drop = config.hidden_dim, config.dropout
        self.text_projection = ModalityProjection(
            config.text_dim, d, config.input_dropout, False, config.text_layers
        )
        self.audio_projection = ModalityProjection(
            config.audio_dim, d, config.input_dropout, False, config.audio_layers
        )
        self.text_placeholder = nn.Parameter(0.02 * torch.randn(d))
        self.audio_placeholder = nn.Parameter(0.02 * torch.randn(d))
        self.mlp = nn.Sequential(
            nn.Linear(2 * d, d),
            nn.GELU(),
            nn.Dropout(drop),
            nn.Linear(d, d),
            nn.GELU(),
            nn.Dropout(drop),
        )
        self.heads = EmotionHeads(config)

    @staticmethod
    def _pool(
        modality: ModalityInput | None, projection: nn.Module, placeholder: Tensor, batch: int
    ) -> Tensor:
        if modality is None:
            return placeholder.expand(batch, -1)  # (B, d)
        pooled = masked_mean(projection(modality.features, modality.mask), modality.mask)
        return torch.where(modality.present[:, None], pooled, placeholder)  # (B, d)

    def _forward_checked(
        self, inputs: Prepared, labels: Tensor | None, intensities: Tensor | None
    ) -> HriEmoOutput:
        text_in, audio_in, batch = inputs
        pooled_text = self._pool(text_in, self.text_projection, self.text_placeholder, batch)
        pooled_audio = self._pool(audio_in, self.audio_projection, self.audio_placeholder, batch)
        joint = self.mlp(torch.cat([pooled_text, pooled_audio], dim=-1))  # (B, d)
        logits, intensity = self.heads(joint)
        return self._output(self.heads, logits, intensity, labels, intensities)


class LateFusionModel(BaselineModel):
    """A text-only and an audio-only branch; logits = w * audio + (1 - w) * text.

    w = sigmoid(learned scalar), forced to 1 for items without text and 0 without audio.
    """

    architecture = "late_fusion"

    def __init__(self, config: HriEmoConfig) -> None:
        super().__init__(config)
        self.text_branch = TextOnlyModel(replace(config, architecture="text_only"))
        self.audio_branch = AudioOnlyModel(replace(config, architecture="audio_only"))
        self.audio_weight_logit = nn.Parameter(torch.zeros(()))

    def _forward_checked(
        self, inputs: Prepared, labels: Tensor | None, intensities: Tensor | None
    ) -> HriEmoOutput:
        text_in, audio_in, batch = inputs
        weight = self._audio_weight(text_in, audio_in, batch)  # (B,)
        text_logits, text_intensity = self._branch(self.text_branch, text_in, batch)
        audio_logits, audio_intensity = self._branch(self.audio_branch, audio_in, batch)
        logits = weight[:, None] * audio_logits + (1 - weight[:, None]) * text_logits  # (B, E)
        intensity = None
        if self.config.intensity_head:
            intensity = weight[:, None] * audio_intensity + (1 - weight[:, None]) * text_intensity
        # Both branches share the task, so either one's heads give probabilities and loss.
        return self._output(
            self.text_branch.heads, logits, intensity, labels, intensities, beta_mean=weight
        )

    def _audio_weight(
        self, text: ModalityInput | None, audio: ModalityInput | None, batch: int
    ) -> Tensor:
        """w per item: the learned weight, 1 where text is missing, 0 where audio is missing."""
        absent = torch.zeros(batch, dtype=torch.bool, device=self.audio_weight_logit.device)
        has_text = text.present if text is not None else absent
        has_audio = audio.present if audio is not None else absent
        weight = torch.sigmoid(self.audio_weight_logit).expand(batch)  # (B,)
        weight = torch.where(has_text, weight, 1.0)
        return torch.where(has_audio, weight, 0.0)

    def _branch(
        self, branch: SingleModalityModel, modality: ModalityInput | None, batch: int
    ) -> tuple[Tensor, Tensor | None]:
        """A branch's logits and intensity; zeros when the modality is None for the batch."""
        if modality is None:
            zeros = self.audio_weight_logit.new_zeros(batch, self.config.num_emotions)
            return zeros, zeros
        logits, intensity, _ = branch.predict(modality)
        return logits, intensity
