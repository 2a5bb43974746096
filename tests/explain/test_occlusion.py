"""Occlusion (explain/faithfulness.py `masked_logit_drops`, the deletion test's erasure): each
window's logit drop equals that of an independent forward pass with the window masked out."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hri_emo.explain.faithfulness import masked_logit_drops


def _masked_logits(model, text, audio, frame_mask):
    """Logits of one independent forward pass with the audio frames of `frame_mask` kept."""
    with torch.no_grad():
        out = model(
            text=torch.from_numpy(text)[None],
            audio=torch.from_numpy(audio)[None],
            audio_mask=torch.from_numpy(frame_mask)[None],
        )
    return out.logits[0].double().numpy()


@pytest.mark.parametrize("window", [1, 3, 5])
def test_a_window_of_frames_gets_the_drop_of_masking_it_whole(embedded_model_dir, window):
    from hri_emo.model import HriEmoModel

    model = HriEmoModel.from_pretrained(embedded_model_dir).eval()
    rng = np.random.default_rng(1)
    text, audio = (rng.normal(size=(n, 384)).astype(np.float32) for n in (3, 11))
    inputs = {"text": torch.from_numpy(text)[None], "audio": torch.from_numpy(audio)[None]}
    drops = masked_logit_drops(model, inputs, "audio", window, chunk=2)  # several passes
    full = _masked_logits(model, text, audio, np.ones(11, dtype=bool))
    for start in range(0, 11, window):
        kept = np.ones(11, dtype=bool)
        kept[start : start + window] = False
        drop = full - _masked_logits(model, text, audio, kept)
        for t in range(start, min(start + window, 11)):
            np.testing.assert_allclose(drops[:, t], drop, atol=1e-4)


def test_masking_every_frame_of_an_audio_only_item_is_not_run(embedded_model_dir):
    from hri_emo.model import HriEmoModel

    model = HriEmoModel.from_pretrained(embedded_model_dir).eval()
    audio = torch.from_numpy(np.random.default_rng(2).normal(size=(1, 4, 384)).astype(np.float32))
    drops = masked_logit_drops(model, {"text": None, "audio": audio}, "audio", window=4)
    np.testing.assert_array_equal(drops, 0.0)  # nothing would be left to answer from
    assert np.abs(masked_logit_drops(model, {"audio": audio}, "audio", window=1)).sum() > 0
