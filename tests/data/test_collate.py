"""collate_batch: padding, masks, missing modalities, targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hri_emo.data.batch import Batch
from hri_emo.data.collate import collate_batch
from hri_emo.data.dataset import EmotionItem
from hri_emo.errors import DataError, FeatureMismatchError


def item(
    utt_id: str,
    text_len: int | None,
    audio_len: int | None,
    target: np.ndarray | None = None,
    text_dim: int = 4,
) -> EmotionItem:
    rng = np.random.default_rng(len(utt_id))
    text = None if text_len is None else rng.random((text_len, text_dim), dtype=np.float32) + 1
    audio = None if audio_len is None else rng.random((audio_len, 3), dtype=np.float32) + 1
    return EmotionItem(
        id=utt_id,
        text=text,
        audio=audio,
        target=np.array([1.0, 0.0], np.float32) if target is None else target,
        intensities=None if target is not None else np.array([2.0, 0.0], np.float32),
        raw_text=None if text_len is None else f"text of {utt_id}",
        tokens=None if text_len is None else [f"t{i}" for i in range(text_len)],
        frame_times=None if audio_len is None else np.zeros((audio_len, 2)),
    )


def test_padding_masks_and_multilabel_targets():
    items = [item("a", 3, 5), item("bb", 1, None), item("ccc", None, 2)]
    batch = collate_batch(items)
    assert isinstance(batch, Batch) and batch.ids == ["a", "bb", "ccc"]
    assert batch.text.shape == (3, 3, 4) and batch.text.dtype == torch.float32
    assert batch.audio.shape == (3, 5, 3)
    assert batch.text_mask.dtype == torch.bool
    assert batch.text_mask.tolist() == [[True] * 3, [True, False, False], [False] * 3]
    assert batch.audio_mask.sum(dim=1).tolist() == [5, 0, 2]
    torch.testing.assert_close(batch.text[0], torch.from_numpy(items[0].text))
    torch.testing.assert_close(batch.audio[2, :2], torch.from_numpy(items[2].audio))
    assert (batch.text[~batch.text_mask] == 0).all()  # padding is zeros
    assert (batch.audio[~batch.audio_mask] == 0).all()
    assert batch.labels.shape == (3, 2) and batch.labels.dtype == torch.float32
    assert batch.intensities.tolist() == [[2.0, 0.0]] * 3
    assert batch.raw_text == ["text of a", "text of bb", ""]
    assert batch.tokens == [["t0", "t1", "t2"], ["t0"], []]
    assert [ft.shape for ft in batch.frame_times] == [(5, 2), (0, 2), (2, 2)]


def test_modality_absent_from_all_items_is_none():
    batch = collate_batch([item("a", 2, None), item("b", 4, None)])
    assert batch.audio is None and batch.audio_mask is None and batch.frame_times is None
    assert batch.text.shape == (2, 4, 4)


def test_only_item_missing_the_modality_still_gives_valid_tensors():
    batch = collate_batch([item("a", None, 2), item("b", None, 1)])
    assert batch.text is None and batch.tokens is None and batch.raw_text is None
    lonely = collate_batch([item("x", 2, 1), item("y", 1, None)])
    assert lonely.audio.shape == (2, 1, 3)
    assert lonely.audio_mask.tolist() == [[True], [False]]


def test_single_label_targets_are_long():
    targets = [np.array(2, np.int64), np.array(0, np.int64)]
    batch = collate_batch([item("a", 2, 2, targets[0]), item("b", 1, 1, targets[1])])
    assert batch.labels.dtype == torch.long and batch.labels.tolist() == [2, 0]
    assert batch.intensities is None


def test_batch_errors_name_the_utterances():
    with pytest.raises(FeatureMismatchError, match="'b': \\(2, 5\\)"):
        collate_batch([item("a", 2, None), item("b", 2, None, text_dim=5)])
    unlabelled = item("u", 1, 1)
    unlabelled.target = None
    with pytest.raises(DataError, match=r"\['u'\] have no target"):
        collate_batch([item("a", 1, 1), unlabelled])
    with pytest.raises(DataError, match="empty"):
        collate_batch([])
