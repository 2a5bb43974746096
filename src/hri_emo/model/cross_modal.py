"""Cross-modal fusion blocks: how text positions gather audio context (and audio gathers text).

Dimension letters: B batch, Lt text positions, La audio frames, d hidden size.
Every block returns (text (B, Lt, d), audio (B, La, d), audio_context (B, Lt, d),
alignment (B, Lt, La) | None): `audio_context` is the output of the block's text->audio
cross-attention (the audio brought to each word, fed to the BetaGate) and `alignment` its
head-averaged attention weights (requested only from the last block; per head, (B, H, Lt, La),
with need_weights="heads"). `time_bias` (B, Lt, La) is the time prior added to that attention.
"""

from __future__ import annotations

from torch import Tensor, nn

from hri_emo.model.config import HriEmoConfig
from hri_emo.model.layers import FeedForward, MaskedMultiheadAttention, ResidualNorm

FusionResult = tuple[Tensor, Tensor, Tensor, Tensor | None]


class FusionBlock(nn.Module):
    """What every fusion block does: text queries audio (the text->audio cross-attention gives
    `audio_context` and `alignment`), that context is added to the text stream (unless
    `text_cross_norm` is None), then the text feed-forward. Subclasses may first attend within
    each modality (`_attend_within`) and update the audio stream (`_update_audio`)."""

    def _build_text_side(self, config: HriEmoConfig, residual: bool) -> None:
        d, drop = config.hidden_dim, config.dropout
        self.text_to_audio = MaskedMultiheadAttention(d, config.num_heads, config.attention_dropout)
        self.text_cross_norm = ResidualNorm(d, drop) if residual else None
        self.text_feed_forward = FeedForward(d, config.ff_mult, drop)
        self.text_feed_forward_norm = ResidualNorm(d, drop)

    def forward(
        self,
        text: Tensor,
        text_mask: Tensor,
        audio: Tensor,
        audio_mask: Tensor,
        need_weights: bool | str = False,
        time_bias: Tensor | None = None,
    ) -> FusionResult:
        text, audio = self._attend_within(text, text_mask, audio, audio_mask)
        audio_context, alignment = self.text_to_audio(
            text, audio, audio_mask, need_weights, time_bias
        )
        audio = self._update_audio(audio, text, text_mask)
        if self.text_cross_norm is not None:
            text = self.text_cross_norm(text, audio_context)  # (B, Lt, d)
        text = self.text_feed_forward_norm(text, self.text_feed_forward(text))
        return text, audio, audio_context, alignment

    def _attend_within(
        self, text: Tensor, text_mask: Tensor, audio: Tensor, audio_mask: Tensor
    ) -> tuple[Tensor, Tensor]:
        return text, audio

    def _update_audio(self, audio: Tensor, text: Tensor, text_mask: Tensor) -> Tensor:
        return audio


class CrossModalBlock(FusionBlock):
    """One full cross-modal layer (the v1 fusion).

    Intra-modal self-attention on each modality, then bidirectional cross-attention computed
    in parallel from the same inputs (text queries audio, audio queries text), then a
    feed-forward per modality; residual + LayerNorm after every attention and feed-forward.
    With `update_audio=False` (the last block of a stack) the audio->text attention and the
    audio feed-forward are skipped: their output would feed nothing downstream.
    """

    def __init__(self, config: HriEmoConfig, update_audio: bool = True) -> None:
        super().__init__()
        d, heads, drop = config.hidden_dim, config.num_heads, config.dropout
        attn_drop = config.attention_dropout
        self.update_audio = update_audio
        self.text_self_attention = MaskedMultiheadAttention(d, heads, attn_drop)
        self.text_self_norm = ResidualNorm(d, drop)
        self.audio_self_attention = MaskedMultiheadAttention(d, heads, attn_drop)
        self.audio_self_norm = ResidualNorm(d, drop)
        self._build_text_side(config, residual=True)
        if update_audio:
            self.audio_to_text = MaskedMultiheadAttention(d, heads, attn_drop)
            self.audio_cross_norm = ResidualNorm(d, drop)
            self.audio_feed_forward = FeedForward(d, config.ff_mult, drop)
            self.audio_feed_forward_norm = ResidualNorm(d, drop)

    def _attend_within(
        self, text: Tensor, text_mask: Tensor, audio: Tensor, audio_mask: Tensor
    ) -> tuple[Tensor, Tensor]:
        text = self.text_self_norm(text, self.text_self_attention(text, text, text_mask)[0])
        audio = self.audio_self_norm(audio, self.audio_self_attention(audio, audio, audio_mask)[0])
        return text, audio

    def _update_audio(self, audio: Tensor, text: Tensor, text_mask: Tensor) -> Tensor:
        if not self.update_audio:
            return audio
        text_context, _ = self.audio_to_text(audio, text, text_mask)  # (B, La, d)
        audio = self.audio_cross_norm(audio, text_context)
        return self.audio_feed_forward_norm(audio, self.audio_feed_forward(audio))


class SimplifiedFusionBlock(FusionBlock):
    """The v2 fusion: text->audio cross-attention + text feed-forward, audio left as projected.

    Fewer parameters and no audio self-attention, which makes it cheaper and more robust on
    noisy corpora (the README's "simplified fusion"). With `config.audio_residual` False the
    audio context is not added to the text stream: the BetaGate is audio's only way into the
    fused sequence, so beta = 0 means the text alone.
    """

    def __init__(self, config: HriEmoConfig) -> None:
        super().__init__()
        self._build_text_side(config, residual=config.audio_residual)


def build_fusion_stack(config: HriEmoConfig) -> nn.ModuleList:
    """`config.num_fusion_layers` blocks of the kind `config.fusion` names."""
    count = config.num_fusion_layers
    if config.fusion == "simplified":
        return nn.ModuleList(SimplifiedFusionBlock(config) for _ in range(count))
    return nn.ModuleList(
        CrossModalBlock(config, update_audio=index < count - 1) for index in range(count)
    )
