"""Per-emotion heads and the task losses, checked against torch's reference functions."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from hri_emo.model.config import HriEmoConfig
from hri_emo.model.heads import EmotionHeads, PerEmotionLinear

EMOTIONS = ["a", "b", "c"]


def _heads(**overrides) -> EmotionHeads:
    return EmotionHeads(HriEmoConfig(emotions=EMOTIONS, hidden_dim=8, **overrides))


def test_each_emotion_has_its_own_weights():
    linear = PerEmotionLinear(3, 8)
    z = torch.randn(2, 3, 8)
    expected = torch.stack([z[:, i] @ linear.weight[i] + linear.bias[i] for i in range(3)], dim=1)
    torch.testing.assert_close(linear(z), expected)
    z_changed = z.clone()
    z_changed[:, 1] += 1.0
    changed = linear(z_changed) != linear(z)
    assert changed[:, 1].all() and not changed[:, [0, 2]].any()


def test_shared_summary_is_read_by_every_head():
    linear = PerEmotionLinear(3, 8)
    z = torch.randn(2, 8)
    torch.testing.assert_close(linear(z), linear(z[:, None, :].expand(-1, 3, -1)))


def test_multilabel_loss_matches_bce_with_logits_and_pos_weight():
    logits, labels = torch.randn(5, 3), (torch.rand(5, 3) > 0.5).float()
    heads = _heads()
    torch.testing.assert_close(
        heads.loss(logits, None, labels), F.binary_cross_entropy_with_logits(logits, labels)
    )
    weighted = _heads(pos_weight=[1.0, 2.0, 5.0])
    reference = F.binary_cross_entropy_with_logits(
        logits, labels, pos_weight=torch.tensor([1.0, 2.0, 5.0])
    )
    torch.testing.assert_close(weighted.loss(logits, None, labels), reference)
    assert not torch.allclose(weighted.loss(logits, None, labels), heads.loss(logits, None, labels))


def test_singlelabel_loss_matches_cross_entropy_and_class_weights():
    logits, labels = torch.randn(5, 3), torch.tensor([0, 2, 1, 1, 0])
    heads = _heads(task="singlelabel")
    torch.testing.assert_close(heads.loss(logits, None, labels), F.cross_entropy(logits, labels))
    weighted = _heads(task="singlelabel", class_weights=[0.5, 1.0, 3.0])
    reference = F.cross_entropy(logits, labels, weight=torch.tensor([0.5, 1.0, 3.0]))
    torch.testing.assert_close(weighted.loss(logits, None, labels), reference)


def test_intensity_loss_is_added_only_with_head_and_targets():
    heads = _heads(intensity_head=True, intensity_loss_weight=0.5, intensity_max=3.0)
    z = torch.randn(4, 3, 8)
    logits, intensity = heads(z)
    assert torch.all((intensity >= 0) & (intensity <= 3))
    labels, targets = (torch.rand(4, 3) > 0.5).float(), 3 * torch.rand(4, 3)
    bce = F.binary_cross_entropy_with_logits(logits, labels)
    torch.testing.assert_close(
        heads.loss(logits, intensity, labels, targets), bce + 0.5 * F.mse_loss(intensity, targets)
    )
    torch.testing.assert_close(heads.loss(logits, intensity, labels), bce)
    assert heads.loss(logits, intensity, None, targets) is None
    assert _heads()(z)[1] is None


def test_loss_weights_are_not_saved_with_the_model_weights():
    assert "pos_weight" not in _heads(pos_weight=[1.0, 2.0, 3.0]).state_dict()
