"""The HRI-EMO building blocks in isolation: fusion blocks, BetaGate, EmotionDecoder."""

from __future__ import annotations

import pytest
import torch

from hri_emo.errors import ConfigError
from hri_emo.model import create_model
from hri_emo.model.beta_gate import BetaGate
from hri_emo.model.config import HriEmoConfig
from hri_emo.model.cross_modal import CrossModalBlock, SimplifiedFusionBlock, build_fusion_stack
from hri_emo.model.decoder import EmotionDecoder

CONFIG = HriEmoConfig(hidden_dim=8, num_heads=2, emotions=["a", "b", "c"], dropout=0.0)


def _streams():
    text, audio = torch.randn(2, 4, 8), torch.randn(2, 6, 8)
    text_mask = torch.tensor([[True] * 4, [True, True, False, False]])
    audio_mask = torch.tensor([[True] * 6, [True] * 3 + [False] * 3])
    return text, text_mask, audio, audio_mask


def test_cross_modal_block_updates_both_streams_and_returns_alignment():
    block = CrossModalBlock(CONFIG).eval()
    text, text_mask, audio, audio_mask = _streams()
    new_text, new_audio, audio_context, alignment = block(
        text, text_mask, audio, audio_mask, need_weights=True
    )
    assert new_text.shape == audio_context.shape == (2, 4, 8) and new_audio.shape == (2, 6, 8)
    assert alignment.shape == (2, 4, 6)
    assert torch.all(alignment[1, :, 3:] == 0)
    torch.testing.assert_close(alignment.sum(-1), torch.ones(2, 4))
    audio_changed = CrossModalBlock(CONFIG, update_audio=True).eval()
    reference = audio_changed(text, text_mask, audio, audio_mask)[1]
    text_moved = audio_changed(text + 1.0, text_mask, audio, audio_mask)[1]
    assert not torch.allclose(reference, text_moved)  # audio attends to text


def test_last_cross_modal_block_leaves_audio_to_self_attention_only():
    block = CrossModalBlock(CONFIG, update_audio=False).eval()
    text, text_mask, audio, audio_mask = _streams()
    _, new_audio, _, alignment = block(text, text_mask, audio, audio_mask)
    _, moved_audio, _, _ = block(text + 1.0, text_mask, audio, audio_mask)
    torch.testing.assert_close(new_audio, moved_audio)  # text no longer reaches audio
    assert alignment is None  # weights only on request
    assert not hasattr(block, "audio_feed_forward")


def test_simplified_block_keeps_audio_as_projected():
    block = SimplifiedFusionBlock(CONFIG).eval()
    text, text_mask, audio, audio_mask = _streams()
    new_text, new_audio, _, alignment = block(text, text_mask, audio, audio_mask, need_weights=True)
    assert new_audio is audio and alignment.shape == (2, 4, 6)
    assert not torch.allclose(new_text, text)


def test_fusion_stack_follows_the_config():
    v1 = build_fusion_stack(HriEmoConfig(hidden_dim=8, num_heads=2, num_fusion_layers=3))
    assert [block.update_audio for block in v1] == [True, True, False]
    v2 = build_fusion_stack(HriEmoConfig(hidden_dim=8, num_heads=2, fusion="simplified"))
    assert all(isinstance(block, SimplifiedFusionBlock) for block in v2)


def test_beta_gate_formula_and_forcing():
    gate = BetaGate(8)
    audio_context, text = torch.randn(3, 4, 8), torch.randn(3, 4, 8)
    mask = torch.ones(3, 4, dtype=torch.bool)
    mask[2, 3] = False
    has_text = torch.tensor([True, False, True])
    has_audio = torch.tensor([True, True, False])
    fused, beta = gate(audio_context, text, mask, has_text, has_audio)
    expected = torch.sigmoid(gate.gate(torch.cat([audio_context, text], -1)))
    torch.testing.assert_close(beta[0], expected[0])
    torch.testing.assert_close(
        fused[0], expected[0] * audio_context[0] + (1 - expected[0]) * text[0]
    )
    assert torch.all(beta[1] == 1) and torch.equal(fused[1], audio_context[1])
    assert torch.all(beta[2] == 0) and torch.equal(fused[2, :3], text[2, :3])


def test_emotion_decoder_reads_only_valid_positions():
    decoder = EmotionDecoder(CONFIG).eval()
    memory, mask = torch.randn(2, 5, 8), torch.tensor([[True] * 5, [True, True] + [False] * 3])
    states, attribution = decoder(memory, mask)
    assert states.shape == (2, 3, 8) and attribution.shape == (2, 3, 5)
    assert torch.all(attribution[1, :, 2:] == 0)
    changed = memory.clone()
    changed[1, 2:] = 1e3
    torch.testing.assert_close(decoder(changed, mask)[0], states)
    assert not torch.allclose(states[:, 0], states[:, 1])  # one query per emotion


@pytest.mark.parametrize("audio_residual", [True, False])
def test_without_audio_residual_the_gate_is_audios_only_way_in(audio_residual):
    """v2 with audio_residual=False: a gate closed on audio (beta = 0) gives text-only outputs."""
    torch.manual_seed(0)
    model = create_model("hriemo-v2", text_dim=8, audio_dim=6, hidden_dim=16, num_heads=2,
                         emotions=["a", "b"], audio_residual=audio_residual).eval()  # fmt: skip
    with torch.no_grad():
        model.backbone.gate.gate.weight.zero_()
        model.backbone.gate.gate.bias.fill_(-60.0)  # beta = sigmoid(-60) ~ 0
    text = torch.randn(2, 4, 8)
    first = model(text=text, audio=torch.randn(2, 5, 6)).logits
    second = model(text=text, audio=torch.randn(2, 5, 6)).logits
    assert torch.allclose(first, second, atol=1e-6) is not audio_residual


def test_without_audio_residual_only_one_fusion_layer_is_allowed():
    with pytest.raises(ConfigError, match="audio_residual"):
        create_model("hriemo-v2", num_fusion_layers=2)
    assert create_model("hriemo-v2", num_fusion_layers=2, audio_residual=True) is not None
