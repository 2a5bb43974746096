"""The pooled read-out path of HriEmoModel (`pooled_readout`): exact, gated, explainable."""

from __future__ import annotations

import torch

from hri_emo.model.pooled import PooledReadout


def _trained_like(model: torch.nn.Module) -> torch.nn.Module:
    """The read-outs start at zero (no opinion); give them weights as training would."""
    generator = torch.Generator().manual_seed(1)
    for readout in (model.text_readout, model.audio_readout):
        weight = torch.randn(readout.linear.weight.shape, generator=generator)
        readout.linear.weight.data.copy_(weight)
        readout.linear.bias.data.normal_(generator=generator)
    return model.eval()


def test_position_shares_sum_to_the_pooled_logits():
    readout = PooledReadout(in_dim=12, num_layers=3, num_emotions=4, dropout=0.0).eval()
    torch.nn.init.normal_(readout.linear.weight)
    features = torch.randn(2, 5, 12)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    shares = readout.position_shares(features, mask)  # (B, E, L)
    assert shares.shape == (2, 4, 5)
    assert torch.all(shares[1, :, 2:] == 0)  # padding has no share
    torch.testing.assert_close(
        shares.sum(-1) + readout.linear.bias, readout(features, mask), atol=1e-5, rtol=0
    )


def test_padding_values_never_reach_the_readout():
    readout = PooledReadout(in_dim=8, num_layers=1, num_emotions=3, dropout=0.0).eval()
    torch.nn.init.normal_(readout.linear.weight)
    features, mask = torch.randn(1, 4, 8), torch.tensor([[True, True, True, False]])
    garbage = features.clone()
    garbage[0, 3] = float("nan")
    torch.testing.assert_close(readout(garbage, mask), readout(features, mask))


def test_logits_are_decoder_plus_beta_weighted_readouts(make_model, make_inputs):
    model = _trained_like(make_model("hriemo-v2", pooled_readout=True))
    inputs = make_inputs(batch=3)
    out = model(**inputs)
    assert out.pooled_share.shape == (3, 4, 2)
    beta = out.beta_mean[:, None]
    text = model.text_readout(inputs["text"], inputs["text_mask"])
    audio = model.audio_readout(inputs["audio"], inputs["audio_mask"])
    torch.testing.assert_close(out.pooled_share[..., 0], (1 - beta) * text)
    torch.testing.assert_close(out.pooled_share[..., 1], beta * audio)
    without = make_model("hriemo-v2", pooled_readout=False)
    without.load_state_dict(model.state_dict(), strict=False)
    decoder_only = without.eval()(**inputs).logits
    torch.testing.assert_close(out.logits, decoder_only + out.pooled_share.sum(-1))


def test_a_missing_modality_contributes_nothing(make_model, make_inputs):
    model = _trained_like(make_model("hriemo-v2", pooled_readout=True))
    inputs = make_inputs(batch=3)
    inputs["audio_mask"][1] = False  # item 1 has no audio
    inputs["text_mask"][2] = False  # item 2 has no text
    out = model(**inputs)
    assert torch.all(out.pooled_share[1, :, 1] == 0)
    assert torch.all(out.pooled_share[2, :, 0] == 0)
    fresh = make_inputs(batch=3)
    text_only = model(text=fresh["text"], text_mask=fresh["text_mask"])
    assert torch.all(text_only.pooled_share[..., 1] == 0)


def test_off_in_v1_on_in_v2_and_saved_with_the_model(make_model, make_inputs, tmp_path):
    assert make_model("hriemo-v1")(**make_inputs()).pooled_share is None
    assert make_model("hriemo-v2")(**make_inputs()).pooled_share is not None
    model = _trained_like(make_model("hriemo-v2", pooled_readout=True))
    model.save_pretrained(tmp_path)
    from hri_emo.model import load_model

    inputs = make_inputs()
    torch.testing.assert_close(load_model(tmp_path)(**inputs).logits, model(**inputs).logits)


def test_given_pooled_logits_replace_the_readouts_where_the_item_has_the_modality():
    from hri_emo.model import create_model

    model = _trained_like(create_model("hriemo-v2", text_dim=6, audio_dim=4, emotions=["a", "b"]))
    text, audio = torch.randn(3, 5, 6), torch.randn(3, 7, 4)
    audio_mask = torch.ones(3, 7, dtype=torch.bool)
    audio_mask[2] = False  # item 2 has no audio: its given audio logits must not be used
    given = torch.full((3, 2, 2), 5.0)
    given[1, :, 0] = float("nan")  # item 1: NaN text logits -> the read-out's own
    with torch.no_grad():
        own = model(text=text, audio=audio, audio_mask=audio_mask)
        out = model(text=text, audio=audio, audio_mask=audio_mask, pooled_logits=given)
    weight = torch.stack([1 - out.beta_mean, out.beta_mean], dim=-1)[:, None, :]  # (B, 1, 2)
    expected = own.pooled_share / torch.stack([1 - own.beta_mean, own.beta_mean], -1)[:, None]
    expected = torch.where(torch.isnan(given), expected, given)
    expected[2, :, 1] = 0.0  # no audio: beta = 0, nothing from the audio read-out
    torch.testing.assert_close(out.pooled_share, (expected * weight).nan_to_num(0.0))


def test_without_decoder_logits_the_gated_readouts_are_the_whole_output_and_maps_stay_exact(
    make_model, make_inputs
):
    model = _trained_like(make_model("hriemo-v2", decoder_logits=False))
    inputs = make_inputs(batch=3)
    inputs["audio_mask"][1] = False  # item 1 has no audio: the text expert alone
    out = model(**inputs)
    torch.testing.assert_close(out.logits, out.pooled_share.sum(-1))
    parts = out.word_contributions.sum(-1) + out.frame_contributions.sum(-1)
    torch.testing.assert_close(parts + out.bias_contribution, out.logits, atol=1e-5, rtol=0)
    assert out.frame_contributions[1].abs().max() == 0
    text = model.text_readout(inputs["text"], inputs["text_mask"])
    torch.testing.assert_close(out.logits[1], text[1])  # beta = 0 without audio
    with_decoder = make_model("hriemo-v2")
    with_decoder.load_state_dict(model.state_dict())
    assert (with_decoder.eval()(**inputs).logits - out.logits).abs().max() > 1e-3


def test_decoder_logits_can_be_turned_off_only_where_the_readouts_answer_alone(make_model):
    import pytest

    from hri_emo.errors import ConfigError

    with pytest.raises(ConfigError, match="decoder_logits"):
        make_model("hriemo-v2", decoder_logits=False, pooled_readout=False)
    experts = make_model("hriemo-v2", decoder_logits=False, context_turns=2)  # past turns too
    assert experts.context_readout is not None
