"""What each baseline reports besides its logits (documented in docs/architecture.md)."""

from __future__ import annotations

import torch

from hri_emo.model import AudioOnlyModel, EarlyFusionModel, LateFusionModel, TextOnlyModel


def test_single_modality_models_attribute_over_their_own_axis(make_model, make_inputs):
    inputs = make_inputs()
    text_out = make_model("text-only").eval()(**inputs)
    audio_out = make_model("audio-only").eval()(**inputs)
    assert text_out.attribution.shape == (4, 4, 6) and audio_out.attribution.shape == (4, 4, 9)
    assert torch.equal(text_out.fused_mask, inputs["text_mask"])
    assert torch.all(text_out.attribution.permute(0, 2, 1)[~inputs["text_mask"]] == 0)
    assert torch.all(text_out.beta_mean == 0) and torch.all(audio_out.beta_mean == 1)
    assert text_out.beta is None and text_out.alignment is None


def test_single_modality_models_ignore_the_other_modality(make_model, make_inputs):
    model = make_model("text-only").eval()
    inputs = make_inputs()
    other = {**inputs, "audio": torch.randn(4, 3, 99), "audio_mask": None}
    torch.testing.assert_close(model(**inputs).logits, model(**other).logits)


def test_early_fusion_has_no_explanations(make_model, make_inputs):
    out = make_model("early-fusion").eval()(**make_inputs())
    assert out.beta is None and out.alignment is None and out.attribution is None
    assert out.beta_mean is None


def test_late_fusion_averages_branch_logits_with_a_learned_weight(make_model, make_inputs):
    model = make_model("late-fusion").eval()
    with torch.no_grad():
        model.audio_weight_logit.fill_(1.0)
    inputs = make_inputs()
    text_logits = model.text_branch(**inputs).logits
    audio_logits = model.audio_branch(**inputs).logits
    inputs["text_mask"][1] = False
    inputs["audio_mask"][2] = False
    out = model(**inputs)
    weight = torch.sigmoid(torch.tensor(1.0))
    expected_weight = torch.stack([weight, torch.tensor(1.0), torch.tensor(0.0), weight])
    torch.testing.assert_close(out.beta_mean, expected_weight)
    mixed = weight * audio_logits + (1 - weight) * text_logits
    torch.testing.assert_close(out.logits[[0, 3]], mixed[[0, 3]])
    torch.testing.assert_close(out.logits[1], audio_logits[1])
    torch.testing.assert_close(out.logits[2], text_logits[2])


def test_architecture_names_are_stable():
    names = [
        m.architecture for m in (TextOnlyModel, AudioOnlyModel, EarlyFusionModel, LateFusionModel)
    ]
    assert names == ["text_only", "audio_only", "early_fusion", "late_fusion"]
