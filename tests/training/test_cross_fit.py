"""Cross-fitting folds: held out the way the corpus holds out its validation data."""

from __future__ import annotations

import itertools

import numpy as np

from hri_emo.data.records import UtteranceRecord
from hri_emo.training.cross_fit import FoldKey, fold_splits, holds_out_sentences, sentence_of


def records(split: str, pairs) -> list[UtteranceRecord]:
    return [
        UtteranceRecord(id=f"{split}-{n}", corpus="c", split=split, speaker=s, text=t)
        for n, (s, t) in enumerate(pairs)
    ]


SENTENCES = ["I am so happy!", "This is awful.", "Leave me alone", "What a day"]
TRAIN = records("train", itertools.product(["a", "b", "c"], SENTENCES))


def test_sentences_are_held_out_only_where_validation_holds_them_out():
    unseen = records("val", [("d", "A brand new sentence"), ("d", "Another one")])
    seen = records("val", [("d", "i am SO happy"), ("d", "this is awful")])
    assert sentence_of("I am SO happy!") == "i am so happy"
    assert holds_out_sentences(TRAIN, unseen)
    assert not holds_out_sentences(TRAIN, seen)  # acted corpora: the same sentences everywhere
    unique = records("train", [("a", f"sentence number {n}") for n in range(12)])
    assert not holds_out_sentences(unique, unseen)  # nothing repeats: any fold is sentence-free
    assert not holds_out_sentences(TRAIN, [])  # no validation split: nothing to mirror


def test_speaker_by_sentence_grid_predicts_each_item_once_from_neither():
    keys = [FoldKey(r.speaker, sentence_of(r.text)) for r in TRAIN] * 2  # with noisy copies
    splits = fold_splits(keys, folds=3)
    held = np.concatenate([rows for _, rows in splits])
    assert sorted(held.tolist()) == list(range(len(keys)))  # each exactly once
    for fitted, rows in splits:
        for f, h in itertools.product(fitted, rows):
            assert keys[f].speaker != keys[h].speaker and keys[f].sentence != keys[h].sentence


def test_speaker_folds_without_sentences_and_items_for_a_single_speaker():
    keys = [FoldKey(r.speaker) for r in TRAIN]
    splits = fold_splits(keys, folds=5)
    assert len(splits) == 3  # one per speaker
    for fitted, rows in splits:
        assert {keys[i].speaker for i in fitted}.isdisjoint(keys[i].speaker for i in rows)
    alone = fold_splits([FoldKey("a")] * 10, folds=5)
    assert len(alone) == 5
    assert sorted(np.concatenate([rows for _, rows in alone]).tolist()) == list(range(10))
