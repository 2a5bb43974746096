"""Samplers and the DataLoader factory: seeded shuffling and length-bucketed batches.

Distributed training (Lightning DDP): `make_dataloader` builds loaders Lightning knows how to
shard. In plain shuffle mode the sampler is a `RandomSampler`, which Lightning replaces by a
`DistributedSampler`. In bucket mode the batch sampler is a `BatchSampler` subclass whose first
argument is `sampler`: Lightning re-creates it around its `DistributedSampler`, so each rank
buckets its own shard, and every rank gets the same number of batches. Lightning calls
`set_epoch` on that inner sampler each epoch, and the bucket order follows it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence, Sized

import numpy as np
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
)

from hri_emo.data.collate import collate_batch
from hri_emo.errors import ConfigError


class SeededRandomSampler(RandomSampler):
    """A random permutation that depends only on (seed, epoch).

    `set_epoch(e)` fixes the epoch of the next pass (Lightning calls it every epoch); without it
    each pass advances the epoch by one, so a plain training loop still reshuffles.
    """

    def __init__(self, data_source: Sized, seed: int = 0) -> None:
        super().__init__(data_source)
        self.seed = int(seed)
        self.epoch = 0
        self._next_epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self._next_epoch = int(epoch)

    def __iter__(self) -> Iterator[int]:
        self.epoch = self._next_epoch
        self._next_epoch = self.epoch + 1
        order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.data_source))
        yield from order.tolist()


class LengthBucketSampler(BatchSampler):
    """Batches of similar length: less padding, same randomness as the wrapped sampler.

    The indices drawn from `sampler` (random, sequential or a rank's DistributedSampler shard)
    are cut into buckets of `bucket_size_multiplier * batch_size`; each bucket is sorted by
    length and cut into batches, and the batches of a bucket are yielded in the order in which
    their first-drawn index came out of `sampler`. The whole order is therefore a function of
    the sampler's order alone: seeded and reproducible per epoch exactly when the sampler is.
    `lengths` defaults to `dataset.lengths()` of the sampler's dataset.
    """

    def __init__(
        self,
        sampler: Sampler[int],
        batch_size: int,
        drop_last: bool = False,
        lengths: Sequence[int] | None = None,
        bucket_size_multiplier: int = 50,
    ) -> None:
        super().__init__(sampler, batch_size, drop_last)
        self.lengths = list(lengths) if lengths is not None else _dataset_lengths(sampler)
        self.bucket_size_multiplier = int(bucket_size_multiplier)
        if self.bucket_size_multiplier < 1:
            raise ConfigError(f"bucket_size_multiplier must be >= 1, got {bucket_size_multiplier}")

    def set_epoch(self, epoch: int) -> None:
        """Forward to the wrapped sampler (the batch order follows its order)."""
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[list[int]]:
        drawn = list(self.sampler)
        bucket_size = self.batch_size * self.bucket_size_multiplier
        batches: list[list[int]] = []
        for start in range(0, len(drawn), bucket_size):
            batches.extend(self._bucket_batches(drawn[start : start + bucket_size]))
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        yield from batches

    def _bucket_batches(self, bucket: list[int]) -> list[list[int]]:
        """Sort one bucket by length, cut it into batches, order them by first draw."""
        positions = sorted(range(len(bucket)), key=lambda p: self.lengths[bucket[p]])
        chunks = [
            positions[i : i + self.batch_size] for i in range(0, len(positions), self.batch_size)
        ]
        if self.drop_last:  # keep the one short batch last, where __iter__ drops it
            full = [c for c in chunks if len(c) == self.batch_size]
            short = [c for c in chunks if len(c) < self.batch_size]
            chunks = sorted(full, key=min) + short
        else:
            chunks.sort(key=min)
        return [[bucket[p] for p in chunk] for chunk in chunks]

    def __len__(self) -> int:
        count = len(self.sampler)
        return count // self.batch_size if self.drop_last else math.ceil(count / self.batch_size)


def _dataset_lengths(sampler: Sampler[int]) -> list[int]:
    dataset = getattr(sampler, "dataset", None) or getattr(sampler, "data_source", None)
    if dataset is None or not hasattr(dataset, "lengths"):
        raise ConfigError(
            "LengthBucketSampler needs `lengths`, or a sampler over a dataset with .lengths() "
            f"(got {type(sampler).__name__})"
        )
    return list(dataset.lengths())


def make_dataloader(
    dataset: Dataset,
    batch_size: int,
    shuffle: bool = False,
    bucket_by_length: bool = False,
    seed: int = 0,
    num_workers: int = 0,
    *,
    drop_last: bool = False,
    bucket_size_multiplier: int = 50,
) -> DataLoader:
    """A DataLoader yielding `Batch` objects (collate_batch), optionally length-bucketed.

    Shuffling is seeded (`seed`) and reproducible per epoch via `set_epoch`; bucketing needs a
    dataset with `.lengths()` such as EmotionDataset.
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    sampler = SeededRandomSampler(dataset, seed) if shuffle else SequentialSampler(dataset)
    common = {"collate_fn": collate_batch, "num_workers": num_workers}
    if not bucket_by_length:
        return DataLoader(
            dataset, batch_size=batch_size, sampler=sampler, drop_last=drop_last, **common
        )
    batch_sampler = LengthBucketSampler(
        sampler, batch_size, drop_last, dataset.lengths(), bucket_size_multiplier
    )
    return DataLoader(dataset, batch_sampler=batch_sampler, **common)


__all__ = ["LengthBucketSampler", "SeededRandomSampler", "make_dataloader"]
