"""HriEmoModel: output shapes, masks, padding invariance, explanations, input errors."""

from __future__ import annotations

import pytest
import torch

from hri_emo.errors import InputShapeError

E, D = 4, 16  # emotions and hidden size of the tiny configs (conftest.TINY)


@pytest.fixture(params=["hriemo-v1", "hriemo-v2"])
def preset(request) -> str:
    return request.param


def test_output_shapes(make_model, make_inputs, preset, stacked):
    model = make_model(preset, **stacked(preset)).eval()
    inputs = make_inputs(batch=3, text_len=5, audio_len=7)
    out = model(**inputs)
    assert out.logits.shape == out.probabilities.shape == (3, E)
    assert out.beta.shape == (3, 5, D)
    assert out.beta_mean.shape == (3,)
    assert out.alignment.shape == (3, 5, 7)
    assert out.attribution.shape == (3, E, 5)
    assert out.fused_mask.shape == (3, 5) and out.fused_mask.dtype == torch.bool
    assert torch.equal(out.fused_mask, inputs["text_mask"])
    assert out.loss.dim() == 0 and torch.isfinite(out.loss)
    assert out.intensity is None


def test_probabilities_follow_the_task(make_model, make_inputs):
    multi = make_model().eval()(**make_inputs())
    torch.testing.assert_close(multi.probabilities, torch.sigmoid(multi.logits))
    single = make_model(task="singlelabel").eval()(**make_inputs(task="singlelabel"))
    torch.testing.assert_close(single.probabilities, single.logits.softmax(-1))
    torch.testing.assert_close(single.probabilities.sum(-1), torch.ones(4))


def test_padding_never_changes_an_output(make_model, make_inputs, pad_garbage, preset, stacked):
    model = make_model(preset, **stacked(preset)).eval()
    inputs = make_inputs(batch=4, text_len=6, audio_len=9)
    reference = model(**inputs)
    text, text_mask = pad_garbage(inputs["text"], inputs["text_mask"], extra=5)
    audio, audio_mask = pad_garbage(inputs["audio"], inputs["audio_mask"], extra=11)
    padded = model(
        text=text, text_mask=text_mask, audio=audio, audio_mask=audio_mask, labels=inputs["labels"]
    )
    for field in ("logits", "probabilities", "loss", "beta_mean"):
        torch.testing.assert_close(
            getattr(padded, field), getattr(reference, field), atol=1e-5, rtol=0
        )
    torch.testing.assert_close(padded.beta[:, :6], reference.beta, atol=1e-5, rtol=0)
    torch.testing.assert_close(padded.alignment[:, :6, :9], reference.alignment, atol=1e-5, rtol=0)
    torch.testing.assert_close(
        padded.attribution[:, :, :6], reference.attribution, atol=1e-5, rtol=0
    )
    assert torch.all(padded.beta[:, 6:] == 0)
    assert torch.all(padded.alignment[:, 6:] == 0) and torch.all(padded.alignment[:, :, 9:] == 0)
    assert torch.all(padded.attribution[:, :, 6:] == 0)


def test_each_item_is_independent_of_the_rest_of_the_batch(make_model, make_inputs):
    model = make_model().eval()
    inputs = make_inputs(batch=4)
    batch_out = model(**{k: v for k, v in inputs.items() if k != "labels"})
    for i in range(4):
        single = model(**{k: v[i : i + 1] for k, v in inputs.items() if k != "labels"})
        torch.testing.assert_close(single.logits[0], batch_out.logits[i], atol=1e-5, rtol=0)


def test_beta_lies_in_unit_interval_and_mean_matches(make_model, make_inputs):
    model = make_model().eval()
    inputs = make_inputs()
    out = model(**inputs)
    assert torch.all((out.beta >= 0) & (out.beta <= 1))
    mask = inputs["text_mask"]
    for i in range(4):
        expected = out.beta[i][mask[i]].mean()
        torch.testing.assert_close(out.beta_mean[i], expected)
    assert torch.all(out.beta[~mask] == 0)


def test_alignment_and_attribution_rows_are_distributions_over_valid_positions(
    make_model, make_inputs
):
    out = make_model().eval()(**make_inputs())
    inputs = make_inputs()
    text_mask, audio_mask = inputs["text_mask"], inputs["audio_mask"]
    alignment_rows = out.alignment.sum(-1)  # (B, Lt)
    torch.testing.assert_close(alignment_rows[text_mask], torch.ones(int(text_mask.sum())))
    assert torch.all(out.alignment.permute(0, 2, 1)[~audio_mask] == 0)
    torch.testing.assert_close(out.attribution.sum(-1), torch.ones(4, E))
    assert torch.all(out.attribution.permute(0, 2, 1)[~text_mask] == 0)


def test_utterance_level_2d_inputs(make_model, make_inputs):
    model = make_model().eval()
    inputs = make_inputs()
    pooled = {"text": inputs["text"][:, 0], "audio": inputs["audio"][:, 0]}
    out = model(**pooled)
    assert out.beta.shape == (4, 1, D) and out.alignment.shape == (4, 1, 1)
    torch.testing.assert_close(out.alignment, torch.ones(4, 1, 1))
    as_sequence = model(text=pooled["text"][:, None], audio=pooled["audio"][:, None])
    torch.testing.assert_close(out.logits, as_sequence.logits)


def test_same_seed_gives_identical_outputs(make_model, make_inputs):
    outputs = []
    for _ in range(2):
        torch.manual_seed(123)
        outputs.append(make_model().eval()(**make_inputs()).logits)
    assert torch.equal(outputs[0], outputs[1])
    torch.manual_seed(124)
    assert not torch.equal(make_model().eval()(**make_inputs()).logits, outputs[0])


def test_dropout_is_active_in_training_and_off_in_eval(make_model, make_inputs):
    model = make_model("hriemo-v2")
    inputs = make_inputs()
    train_a, train_b = model(**inputs).logits, model(**inputs).logits
    assert not torch.equal(train_a, train_b)
    model.eval()
    assert torch.equal(model(**inputs).logits, model(**inputs).logits)


def test_intensity_head(make_model, make_inputs):
    model = make_model(intensity_head=True, intensity_max=3.0).eval()
    inputs = make_inputs()
    targets = 3 * torch.rand(4, E)
    out = model(**inputs, intensities=targets)
    assert out.intensity.shape == (4, E)
    assert torch.all((out.intensity >= 0) & (out.intensity <= 3))
    without = model(**inputs)
    expected = without.loss + torch.nn.functional.mse_loss(out.intensity, targets)
    torch.testing.assert_close(out.loss, expected)
    out.loss.backward()
    assert model.backbone.heads.intensity.weight.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"text": torch.randn(4, 6, 300)},
            "text features have dim 300 but the model expects text_dim=12",
        ),
        (
            {"audio": torch.randn(4, 9, 11)},
            "audio features have dim 11 but the model expects audio_dim=10",
        ),
        ({"text": torch.randn(4, 6, 2, 12)}, "text features must be .* got a 4-D tensor"),
        ({"text_mask": torch.ones(4, 5, dtype=torch.bool)}, r"text_mask has shape \(4, 5\)"),
        ({"audio_mask": torch.ones(4, 9)}, "audio_mask must be a bool tensor"),
        ({"audio": torch.randn(3, 9, 10), "audio_mask": None}, "different batch sizes: 4 and 3"),
        (
            {"labels": torch.zeros(4, 3)},
            r"labels must be a float tensor of shape \(B, E\) = \(4, 4\)",
        ),
        ({"labels": torch.zeros(4, 4, dtype=torch.long)}, "got shape .* dtype torch.int64"),
        ({"intensities": torch.zeros(4)}, "intensities must be a float tensor"),
        ({"text": None, "text_mask": None, "audio": None, "audio_mask": None}, "both are None"),
        ({"text": None}, "text_mask was given but text features are None"),
    ],
)
def test_bad_inputs_raise_clear_errors(make_model, make_inputs, change, message):
    inputs = {**make_inputs(), **change}
    with pytest.raises(InputShapeError, match=message):
        make_model()(**inputs)


@pytest.mark.parametrize("modality", ["text", "audio"])
def test_nan_at_a_real_position_names_modality_and_item(make_model, make_inputs, modality):
    inputs = make_inputs()
    inputs[modality][2, 0, 1] = float("nan")
    with pytest.raises(
        InputShapeError, match=rf"{modality} features contain NaN .* item\(s\) \[2\]"
    ):
        make_model()(**inputs)


def test_singlelabel_labels_are_checked(make_model, make_inputs):
    model = make_model(task="singlelabel")
    inputs = make_inputs(task="singlelabel")
    with pytest.raises(InputShapeError, match="integer tensor of class indices"):
        model(**{**inputs, "labels": inputs["labels"].float()})
    with pytest.raises(InputShapeError, match=r"must lie in \[0, 4\)"):
        model(**{**inputs, "labels": torch.tensor([0, 1, 4, 2])})


def test_torch_export_matches_eager(make_model, make_inputs, preset):
    """Value checks are skipped while exporting, so the graph has no data-dependent branches."""
    model = make_model(preset).eval()
    inputs = {k: v for k, v in make_inputs().items() if k != "labels"}
    exported = torch.export.export(model, (), inputs, strict=False).module()
    out, reference = exported(**inputs), model(**inputs)
    torch.testing.assert_close(out.logits, reference.logits)
    torch.testing.assert_close(out.alignment, reference.alignment)
    inputs["text"][0, 0, 0] = float("nan")
    with pytest.raises(InputShapeError, match="NaN"):
        model(**inputs)  # eager mode still checks values


def test_beta_cost_adds_the_mean_beta_of_items_with_both_modalities(make_model, make_inputs):
    torch.manual_seed(0)
    plain = make_model("hriemo-v2").eval()
    costly = make_model("hriemo-v2", beta_cost=0.5).eval()
    costly.load_state_dict(plain.state_dict())
    inputs = make_inputs(batch=3)
    inputs["audio_mask"][2] = False  # the last item has no audio: beta 0, not counted
    base, paid = plain(**inputs), costly(**inputs)
    expected = base.loss + 0.5 * base.beta_mean[:2].mean()
    torch.testing.assert_close(paid.loss, expected)
    assert base.beta_mean[:2].mean() > 0.1  # the cost is not trivially zero
    with pytest.raises(Exception, match="beta_cost"):
        make_model("hriemo-v2", beta_cost=-1.0)
