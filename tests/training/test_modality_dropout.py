"""Modality dropout: whole modalities masked per item, never both, only when the other exists."""

from __future__ import annotations

import torch

from hri_emo.data.batch import Batch
from hri_emo.training.modality_dropout import apply_modality_dropout, choose_dropped


def _batch(size: int = 400, text_len: int = 5, audio_len: int = 7) -> Batch:
    text_mask = torch.ones(size, text_len, dtype=torch.bool)
    text_mask[:, 3:] = False  # padding
    audio_mask = torch.ones(size, audio_len, dtype=torch.bool)
    audio_mask[0] = False  # item 0 has no audio: its text must never be dropped
    return Batch(
        ids=[f"u{i}" for i in range(size)],
        text=torch.randn(size, text_len, 4) + 3.0,
        text_mask=text_mask,
        audio=torch.randn(size, audio_len, 6) + 3.0,
        audio_mask=audio_mask,
        labels=torch.zeros(size, 2),
    )


def test_rates_and_never_both():
    batch = _batch()
    generator = torch.Generator().manual_seed(0)
    out = apply_modality_dropout(batch, 0.3, 0.2, generator)
    text_kept, audio_kept = out.text_mask.any(1), out.audio_mask.any(1)
    assert (text_kept | audio_kept).all()  # never both
    assert text_kept[0]  # only modality of item 0
    eligible = batch.audio_mask.any(1)
    # expected drop rates: text 0.3 - 0.5*0.3*0.2 = 0.27, audio 0.2 - 0.03 = 0.17
    assert 0.20 < (~text_kept[eligible]).float().mean() < 0.34
    assert 0.11 < (~audio_kept[eligible]).float().mean() < 0.24


def test_dropped_items_are_fully_masked_and_zeroed():
    batch = _batch(size=64)
    out = apply_modality_dropout(batch, 0.5, 0.5, torch.Generator().manual_seed(1))
    dropped_text = batch.text_mask.any(1) & ~out.text_mask.any(1)
    assert dropped_text.any()
    assert (out.text[dropped_text] == 0).all()
    kept = ~dropped_text
    assert torch.equal(out.text[kept], batch.text[kept] * batch.text_mask[kept][..., None])
    assert torch.equal(out.text_mask[kept], batch.text_mask[kept])
    assert batch.text_mask.any(1).all()  # the input batch is not modified


def test_same_generator_seed_same_masks():
    batch = _batch(size=32)
    first = apply_modality_dropout(batch, 0.4, 0.4, torch.Generator().manual_seed(5))
    second = apply_modality_dropout(batch, 0.4, 0.4, torch.Generator().manual_seed(5))
    assert torch.equal(first.text_mask, second.text_mask)
    assert torch.equal(first.audio_mask, second.audio_mask)


def test_zero_probability_or_single_modality_is_identity():
    batch = _batch(size=8)
    assert apply_modality_dropout(batch, 0.0, 0.0, torch.Generator()) is batch
    text_only = Batch(ids=batch.ids, text=batch.text, text_mask=batch.text_mask)
    assert apply_modality_dropout(text_only, 0.9, 0.9, torch.Generator()) is text_only


def test_choose_dropped_both_fire_keeps_one():
    has = torch.ones(1000, dtype=torch.bool)
    drop_text, drop_audio = choose_dropped(has, has, 0.99, 0.99, torch.Generator().manual_seed(0))
    assert not (drop_text & drop_audio).any()
    assert 0.4 < drop_text.float().mean() < 0.6  # a fair coin decides
