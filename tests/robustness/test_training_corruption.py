"""Training-time corruption: which items, what it does to them, its config, and a real run
trained with a noisy copy of the audio store."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hri_emo.cli.main import main
from hri_emo.data.batch import Batch
from hri_emo.data.records import UtteranceRecord
from hri_emo.data.store.feature_store import FeatureStore
from hri_emo.data.store.mixed_source import MixedSource, read_snr
from hri_emo.errors import ConfigError
from hri_emo.training.config import load_config
from hri_emo.training.corruption import corrupt_batch


def batch(size: int = 200, words: int = 10, frames: int = 6) -> Batch:
    text_mask = torch.ones(size, words, dtype=torch.bool)
    text_mask[:, 8:] = False  # two padding positions
    audio_mask = torch.ones(size, frames, dtype=torch.bool)
    return Batch(
        ids=[str(i) for i in range(size)],
        text=torch.randn(size, words, 4) * text_mask[..., None],
        text_mask=text_mask,
        audio=torch.randn(size, frames, 3),
        audio_mask=audio_mask,
        labels=torch.zeros(size, 2),
    )


def test_no_fraction_no_change():
    clean = batch()
    assert corrupt_batch(clean, 0.0, (0, 20), (0.1, 0.5), torch.Generator()) is clean


def test_word_dropout_hits_the_fraction_and_rate_and_keeps_a_word():
    clean = batch()
    noisy = corrupt_batch(clean, 0.5, None, (0.5, 0.5), torch.Generator().manual_seed(0))
    touched = (noisy.text_mask != clean.text_mask).any(dim=1)
    assert 0.4 < touched.float().mean() < 0.6  # about half the items
    dropped = (clean.text_mask & ~noisy.text_mask)[touched].sum() / (8 * touched.sum())
    assert float(dropped) == pytest.approx(0.5, abs=0.07)
    assert noisy.text_mask.any(dim=1).all()
    assert not noisy.text_mask[:, 8:].any()  # padding stays padding
    assert torch.equal(noisy.audio, clean.audio)


def test_audio_noise_touches_only_chosen_items_at_the_drawn_snr():
    clean = batch()
    noisy = corrupt_batch(clean, 1.0, (0.0, 0.0), None, torch.Generator().manual_seed(0))
    noise = noisy.audio - clean.audio
    assert (noise.abs().sum(dim=(1, 2)) > 0).all()
    ratio = float(noise.var() / clean.audio.var())
    assert ratio == pytest.approx(1.0, abs=0.1)  # 0 dB: noise power = signal power


def test_both_kinds_split_the_corrupted_items():
    clean = batch()
    noisy = corrupt_batch(clean, 1.0, (10.0, 10.0), (0.3, 0.3), torch.Generator().manual_seed(1))
    text_hit = (noisy.text_mask != clean.text_mask).any(dim=1)
    audio_hit = (noisy.audio != clean.audio).any(dim=2).any(dim=1)
    assert not (text_hit & audio_hit).any()
    assert 0.3 < audio_hit.float().mean() < 0.7


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.corruption.fraction=1.5", "train.corruption.fraction"),
        ("train.corruption.audio_noise_snr=[20,0]", "train.corruption.audio_noise_snr"),
        ("train.corruption.word_dropout=[0.1,1.0]", "train.corruption.word_dropout"),
        ("data.noisy_audio_fraction=-0.1", "data.noisy_audio_fraction"),
        ("data.noisy_audio_features=x.h5", "data.audio_features is not"),
    ],
)
def test_corruption_settings_outside_their_range_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, ["data.corpus=x.csv", override])


class _Source:
    def __init__(self, tag: str) -> None:
        self.tag = tag

    def has(self, record) -> bool:
        return True

    def get(self, record):
        return self.tag


def test_mixed_source_reads_a_fixed_share_from_the_noisy_store():
    records = [UtteranceRecord(id=f"u{i}", corpus="c", split="train") for i in range(1000)]
    mixed = MixedSource(_Source("clean"), _Source("noisy"), 0.3, seed=0)
    picks = [mixed.get(r) for r in records]
    assert picks.count("noisy") / 1000 == pytest.approx(0.3, abs=0.04)
    assert picks == [mixed.get(r) for r in records]  # fixed per item
    other_seed = MixedSource(_Source("clean"), _Source("noisy"), 0.3, seed=1)
    assert picks != [other_seed.get(r) for r in records]


def test_extract_noisy_then_train_with_it(recorded_runs, tmp_path, capsys):
    folder = recorded_runs.folder
    noisy = tmp_path / "audio_noisy.h5"
    args = ["extract-noisy", str(recorded_runs.manifest), "--like", str(folder / "audio.h5")]
    only = ["--noise-only", "0.3"]
    assert main([*args, "--out", str(noisy), "--snr", "0:10", *only, "--no-progress"]) == 0
    with FeatureStore.open(noisy) as store, FeatureStore.open(folder / "audio.h5") as clean:
        assert store.metadata.encoder == clean.metadata.encoder
        train_ids = [i for i in clean.ids() if i.startswith("train_")]
        assert sorted(store.ids()) == sorted(train_ids)
        first = train_ids[0]
        assert store.read(first).features.shape == clean.read(first).features.shape
        assert (store.read(first).features != clean.read(first).features).any()
    assert not (tmp_path / "audio_noisy.h5.wavs").exists()
    snr = read_snr(noisy)  # what each item got, beside the store: the reliability targets
    assert sorted(snr) == sorted(train_ids)
    replaced = [v for v in snr.values() if v == float("-inf")]
    assert 0 < len(replaced) < len(snr)  # some recordings replaced by noise alone
    assert all(0 <= v <= 10 for v in snr.values() if v != float("-inf"))
    extra = [f"data.noisy_audio_features={noisy}", "train.corruption.fraction=0.5"]
    run = recorded_runs.train(
        "augmented", "hriemo-v2", *extra, "data.bucket_by_length=true",
        "model.params.audio_reliability=1.0",
    )  # fmt: skip
    assert (run / "checkpoints" / "best" / "model.safetensors").is_file()
    assert main(["evaluate", str(run), "--no-plots"]) == 0


def test_the_mixed_source_gives_each_item_its_snr():
    records = [UtteranceRecord(id=f"u{i}", corpus="c", split="train") for i in range(200)]
    snr = {r.id: float(i % 7) for i, r in enumerate(records)}
    mixed = MixedSource(_Source("clean"), _Source("noisy"), 0.5, seed=0, snr=snr)
    for record in records:
        noisy = mixed.get(record) == "noisy"
        assert mixed.snr_of(record) == (snr[record.id] if noisy else float("inf"))
    unrecorded = MixedSource(_Source("clean"), _Source("noisy"), 1.0, seed=0)
    assert np.isnan(unrecorded.snr_of(records[0]))  # a store made before SNRs were recorded


def test_extract_noisy_refuses_a_bad_snr(recorded_runs, tmp_path, capsys):
    args = ["extract-noisy", str(recorded_runs.manifest), "--like", "x.h5", "--out", "y.h5"]
    assert main([*args, "--snr", "0:99"]) == 2
    assert "snr" in capsys.readouterr().err
