"""Length buckets, seeded shuffling, DataLoaders over real stores, Lightning integration."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from itertools import pairwise

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from lightning.pytorch.utilities.data import _update_dataloader
from torch.utils.data import DistributedSampler, SequentialSampler

from hri_emo.data.batch import Batch
from hri_emo.data.dataset import EmotionDataset
from hri_emo.data.records import UtteranceRecord
from hri_emo.data.sampler import LengthBucketSampler, SeededRandomSampler, make_dataloader
from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore
from hri_emo.errors import ConfigError

EMOTIONS = ["happy", "sad"]
N = 203


def records(n: int = N) -> list[UtteranceRecord]:
    return [
        UtteranceRecord(f"u{i}", "toy", "train", text=f"utt {i}", labels={"happy": i % 2, "sad": 0})
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def store_dataset(tmp_path_factory):
    """EmotionDataset over a real text store whose lengths vary from 1 to 40."""
    path = tmp_path_factory.mktemp("store") / "text.h5"
    rng = np.random.default_rng(0)
    with FeatureStore.create(path, FeatureMetadata("minilm", "r", "text", "sequence", 4)) as store:
        for i in range(N):
            store.write(f"u{i}", rng.random((1 + (i * 37) % 40, 4), dtype=np.float32))
    store = FeatureStore.open(path)
    yield EmotionDataset(records(), EMOTIONS, "multilabel", text_source=store)
    store.close()


def epoch_batches(batch_sampler, epoch: int | None = None) -> list[list[int]]:
    if epoch is not None:
        batch_sampler.set_epoch(epoch)
    return [list(b) for b in batch_sampler]


def test_bucket_sampler_covers_every_index_once(store_dataset):
    for shuffle in (False, True):
        sampler = (
            SeededRandomSampler(store_dataset, 3) if shuffle else SequentialSampler(store_dataset)
        )
        buckets = LengthBucketSampler(sampler, batch_size=8, bucket_size_multiplier=5)
        for epoch in range(3):
            batches = epoch_batches(buckets, epoch)
            assert sorted(i for b in batches for i in b) == list(range(N))
            assert len(batches) == len(buckets) == 26
            assert sum(len(b) < 8 for b in batches) == 1


def test_bucket_sampler_is_seeded_and_changes_per_epoch(store_dataset):
    def make(seed):
        return LengthBucketSampler(SeededRandomSampler(store_dataset, seed), batch_size=8)

    first, again, other = make(0), make(0), make(1)
    assert epoch_batches(first, 0) == epoch_batches(again, 0)
    assert epoch_batches(first, 1) == epoch_batches(again, 1)
    assert epoch_batches(first, 0) != epoch_batches(first, 1)
    assert epoch_batches(first, 0) != epoch_batches(other, 0)
    auto = make(0)  # without set_epoch each pass moves on to the next epoch
    assert epoch_batches(auto) == epoch_batches(first, 0)
    assert epoch_batches(auto) == epoch_batches(first, 1)


def test_buckets_reduce_padding(store_dataset):
    lengths = store_dataset.lengths()

    def padding(batches):
        return sum(
            len(b) * max(lengths[i] for i in b) - sum(lengths[i] for i in b) for b in batches
        )

    bucketed = epoch_batches(LengthBucketSampler(SeededRandomSampler(store_dataset), 8), 0)
    random_order = np.random.default_rng(0).permutation(N).tolist()
    unbucketed = [random_order[i : i + 8] for i in range(0, N, 8)]
    assert padding(bucketed) < padding(unbucketed) / 5


def test_drop_last_drops_only_the_short_batch(store_dataset):
    buckets = LengthBucketSampler(SeededRandomSampler(store_dataset), 8, drop_last=True)
    batches = epoch_batches(buckets, 0)
    assert len(batches) == len(buckets) == N // 8
    assert all(len(b) == 8 for b in batches)
    assert len({i for b in batches for i in b}) == N // 8 * 8


def test_lengths_come_from_the_dataset_or_must_be_given(store_dataset):
    implicit = LengthBucketSampler(SequentialSampler(store_dataset), 4)
    assert implicit.lengths == store_dataset.lengths()
    with pytest.raises(ConfigError, match="needs `lengths`"):
        LengthBucketSampler(SequentialSampler(range(5)), 4)


@pytest.mark.parametrize("bucket", [False, True])
def test_dataloader_yields_batches(store_dataset, bucket):
    loader = make_dataloader(store_dataset, 16, shuffle=True, bucket_by_length=bucket, seed=5)
    batches = list(loader)
    assert all(isinstance(b, Batch) for b in batches)
    assert Counter(i for b in batches for i in b.ids) == Counter(f"u{i}" for i in range(N))
    first = batches[0]
    assert first.text.shape[0] == len(first) and first.labels.shape == (len(first), 2)
    lengths = [store_dataset[int(utt_id[1:])].text.shape[0] for utt_id in first.ids]
    assert first.text_mask.sum(dim=1).tolist() == lengths


def test_worker_processes_read_the_store(store_dataset):
    serial = [b.ids for b in make_dataloader(store_dataset, 32, bucket_by_length=True)]
    loader = make_dataloader(store_dataset, 32, bucket_by_length=True, num_workers=2)
    parallel = list(loader)
    assert [b.ids for b in parallel] == serial
    reference = store_dataset[int(parallel[-1].ids[0][1:])].text
    torch.testing.assert_close(parallel[-1].text[0, : len(reference)], torch.from_numpy(reference))


def test_lightning_shards_bucketed_loader_across_ranks(store_dataset):
    loader = make_dataloader(store_dataset, 8, shuffle=True, bucket_by_length=True)
    shards = []
    for rank in range(2):
        sampler = DistributedSampler(store_dataset, num_replicas=2, rank=rank, shuffle=True, seed=0)
        sharded = _update_dataloader(loader, sampler)  # what Lightning does under DDP
        assert isinstance(sharded.batch_sampler, LengthBucketSampler)
        assert sharded.batch_sampler.sampler is sampler
        shards.append(epoch_batches(sharded.batch_sampler, 0))
    assert len(shards[0]) == len(shards[1])  # DDP needs the same number of steps per rank
    covered = {i for shard in shards for b in shard for i in b}
    assert covered == set(range(N))


class _RecordIds(pl.LightningModule):
    """Tiny module that records the utterance order of each training epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(4))
        self.seen: list[list[str]] = []

    def on_train_epoch_start(self) -> None:
        self.seen.append([])

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        self.seen[-1].extend(batch.ids)
        return (batch.text.sum(dim=1) * self.weight).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)


def test_lightning_sets_the_epoch_of_the_bucketed_loader(store_dataset):
    orders = []
    for _ in range(2):
        module = _RecordIds()
        trainer = pl.Trainer(
            max_epochs=2,
            accelerator="cpu",
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        loader = make_dataloader(store_dataset, 32, shuffle=True, bucket_by_length=True, seed=1)
        trainer.fit(module, loader)
        orders.append(module.seen)
    assert orders[0] == orders[1]  # reproducible run to run
    assert orders[0][0] != orders[0][1]  # reshuffled between epochs
    assert sorted(orders[0][1]) == sorted(f"u{i}" for i in range(N))


DDP_SCRIPT = """
import sys
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch

from hri_emo.data import EmotionDataset, FeatureMetadata, FeatureStore, UtteranceRecord
from hri_emo.data import make_dataloader


class LogIds(pl.LightningModule):
    def __init__(self, out):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(4))
        self.out = out

    def training_step(self, batch, batch_idx):
        log = Path(self.out) / f"rank{self.global_rank}_epoch{self.current_epoch}.txt"
        with log.open("a") as file:
            file.write(",".join(batch.ids) + "\\n")
        return (batch.text.sum(dim=1) * self.weight).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)


if __name__ == "__main__":
    out, bucket = sys.argv[1], sys.argv[2] == "bucket"
    meta = FeatureMetadata("minilm", "r", "text", "sequence", 4)
    with FeatureStore.create(Path(out) / "text.h5", meta) as store:
        for i in range(50):
            store.write(f"u{i}", np.ones((1 + i % 7, 4), np.float32))
    records = [UtteranceRecord(f"u{i}", "toy", "train", labels={"a": 1.0}) for i in range(50)]
    text = FeatureStore.open(Path(out) / "text.h5")
    dataset = EmotionDataset(records, ["a"], "multilabel", text_source=text)
    trainer = pl.Trainer(
        max_epochs=2, accelerator="cpu", devices=2, strategy="ddp_spawn", logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
    )
    trainer.fit(LogIds(out), make_dataloader(dataset, 4, shuffle=True, bucket_by_length=bucket))
"""


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["shuffle", "bucket"])
def test_lightning_ddp_shards_the_loader(tmp_path, mode):
    """Two real DDP processes (gloo on CPU): disjoint shards, same step count, reshuffled."""
    script = tmp_path / "ddp_fit.py"
    script.write_text(DDP_SCRIPT)
    run = subprocess.run(
        [sys.executable, str(script), str(tmp_path), mode], capture_output=True, timeout=300
    )
    assert run.returncode == 0, run.stderr.decode()[-3000:]
    length = {f"u{i}": 1 + i % 7 for i in range(50)}
    for epoch in (0, 1):
        ranks = [
            [
                line.split(",")
                for line in (tmp_path / f"rank{r}_epoch{epoch}.txt").read_text().split()
            ]
            for r in (0, 1)
        ]
        assert len(ranks[0]) == len(ranks[1])
        assert {i for rank in ranks for batch in rank for i in batch} == set(length)
        if mode == "bucket":  # each rank's shard is one bucket: batches are sorted length ranges
            for rank in ranks:
                spans = sorted((min(length[i] for i in b), max(length[i] for i in b)) for b in rank)
                assert all(hi <= next_lo for (_, hi), (next_lo, _) in pairwise(spans))
    orders = [(tmp_path / f"rank0_epoch{e}.txt").read_text() for e in (0, 1)]
    assert orders[0] != orders[1]
