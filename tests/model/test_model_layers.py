"""Masked attention, projection and position table: the blocks every model is built from."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from hri_emo.errors import ConfigError
from hri_emo.model import create_model
from hri_emo.model.layers import (
    LayerMix,
    MaskedMultiheadAttention,
    ModalityProjection,
    masked_mean,
    sinusoidal_positions,
)


def _attention_and_inputs(need_mask: bool = True):
    torch.manual_seed(0)
    attention = MaskedMultiheadAttention(dim=8, num_heads=2).eval()
    query, key = torch.randn(3, 4, 8), torch.randn(3, 5, 8)
    key_mask = torch.tensor(
        [[True] * 5, [True, True, False, False, False], [False] * 5]
    )  # item 2: no valid key at all
    return attention, query, key, key_mask if need_mask else None


def test_attention_weights_are_zero_on_padding_and_sum_to_one():
    attention, query, key, key_mask = _attention_and_inputs()
    _, weights = attention(query, key, key_mask, need_weights=True)
    assert weights.shape == (3, 4, 5)
    assert torch.all(weights[:, :, :][~key_mask[:, None, :].expand(-1, 4, -1)] == 0)
    torch.testing.assert_close(weights[:2].sum(-1), torch.ones(2, 4))


def test_attention_with_no_valid_key_gives_zeros_not_nan():
    attention, query, key, key_mask = _attention_and_inputs()
    for need_weights in (True, False):
        output, weights = attention(query, key, key_mask, need_weights=need_weights)
        assert torch.isfinite(output).all()
        assert torch.all(output[2] == 0)
        if need_weights:
            assert torch.all(weights[2] == 0)
    output.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in attention.parameters())


def test_fused_and_explicit_paths_agree():
    attention, query, key, key_mask = _attention_and_inputs()
    fused, none = attention(query, key, key_mask, need_weights=False)
    explicit, _ = attention(query, key, key_mask, need_weights=True)
    assert none is None
    torch.testing.assert_close(fused, explicit, atol=1e-6, rtol=1e-5)


def test_attention_matches_torch_multi_head_attention_reference():
    attention, query, key, key_mask = _attention_and_inputs()
    q_weight, out_weight = attention.query_proj.weight, attention.out_proj.weight
    in_weight = torch.cat([q_weight, attention.key_value_proj.weight])
    in_bias = torch.cat([attention.query_proj.bias, attention.key_value_proj.bias])
    reference, reference_weights = F.multi_head_attention_forward(
        query[:2].transpose(0, 1),
        key[:2].transpose(0, 1),
        key[:2].transpose(0, 1),
        8,
        2,
        in_weight,
        in_bias,
        None,
        None,
        False,
        0.0,
        out_weight,
        attention.out_proj.bias,
        training=False,
        key_padding_mask=~key_mask[:2],
        need_weights=True,
    )
    output, weights = attention(query[:2], key[:2], key_mask[:2], need_weights=True)
    torch.testing.assert_close(output, reference.transpose(0, 1), atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(weights, reference_weights, atol=1e-6, rtol=1e-5)


def test_attention_without_mask_attends_everywhere():
    attention, query, key, _ = _attention_and_inputs(need_mask=False)
    _, weights = attention(query, key, None, need_weights=True)
    assert torch.all(weights > 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 4))


def test_projection_zeroes_padding_and_ignores_its_values():
    projection = ModalityProjection(6, 8, positional=True).eval()
    features = torch.randn(2, 4, 6)
    mask = torch.tensor([[True, True, True, False], [True, False, False, False]])
    garbage = features.clone()
    garbage[~mask] = float("nan")
    clean_out, garbage_out = projection(features, mask), projection(garbage, mask)
    assert torch.all(garbage_out[~mask] == 0)
    torch.testing.assert_close(clean_out, garbage_out)


def test_projection_treats_2d_input_as_length_one_sequence():
    projection = ModalityProjection(6, 8).eval()
    pooled = torch.randn(3, 6)
    torch.testing.assert_close(projection(pooled), projection(pooled[:, None, :]))
    assert projection(pooled).shape == (3, 1, 8)


def test_position_table_grows_beyond_its_cache():
    projection = ModalityProjection(2, 4).eval()
    long = projection(torch.zeros(1, 700, 2))
    assert long.shape == (1, 700, 4)
    torch.testing.assert_close(projection.positions[:700], sinusoidal_positions(700, 4))


def test_sinusoidal_positions_values():
    table = sinusoidal_positions(3, 4)
    assert table[0].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert table[1, 0] == pytest.approx(torch.sin(torch.tensor(1.0)).item())
    assert table[1, 2] == pytest.approx(torch.sin(torch.tensor(0.01)).item())


def test_masked_mean_ignores_padding_and_handles_empty_rows():
    x = torch.tensor([[[1.0], [3.0], [1e9]], [[5.0], [7.0], [9.0]]])
    mask = torch.tensor([[True, True, False], [False, False, False]])
    assert masked_mean(x, mask).flatten().tolist() == [2.0, 0.0]


def test_layer_mix_weights_layers_after_normalising_each():
    torch.manual_seed(0)
    mix = LayerMix(num_layers=3, in_dim=3 * 4)
    features = torch.randn(2, 5, 12) * torch.tensor([1.0] * 4 + [50.0] * 4 + [0.1] * 4)
    layers = F.layer_norm(features.unflatten(-1, (3, 4)), (4,))  # (B, L, 3, 4)
    torch.testing.assert_close(mix(features), layers.mean(dim=2))  # equal weights at start
    with torch.no_grad():
        mix.logits.copy_(torch.tensor([0.0, 30.0, 0.0]))  # ~all weight on layer 1
        mix.gamma.fill_(2.0)
    torch.testing.assert_close(mix(features), 2.0 * layers[:, :, 1], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", ["hriemo-v1", "hriemo-v2", "text-only", "early-fusion"])
def test_models_learn_a_layer_mix_for_stacked_layers(name):
    model = create_model(name, text_dim=3 * 8, audio_dim=2 * 6, text_layers=3, audio_layers=2,
                         hidden_dim=16, num_heads=2, emotions=["a", "b"])  # fmt: skip
    text, audio = torch.randn(2, 4, 24), torch.randn(2, 7, 12)
    out = model(text=text, audio=audio, labels=torch.ones(2, 2))
    out.loss.backward()
    mixes = [m for m in model.modules() if isinstance(m, LayerMix)]
    assert {m.num_layers for m in mixes} <= {2, 3} and any(m.num_layers == 3 for m in mixes)
    assert all(m.logits.grad is not None and m.logits.grad.abs().sum() > 0 for m in mixes)


def test_layer_count_must_divide_the_feature_size():
    with pytest.raises(ConfigError, match="text_layers"):
        create_model("hriemo-v2", text_dim=10, text_layers=3)
