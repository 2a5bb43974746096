"""Shard assignment and device choice of a torchrun rank (no processes needed)."""

from __future__ import annotations

import pytest
import torch

from hri_emo.distributed import DistContext, resolve_device, shard_indices


@pytest.mark.parametrize(("count", "world"), [(0, 2), (1, 2), (10, 3), (7, 7), (5, 8)])
def test_shards_cover_every_item_once_and_stay_balanced(count, world):
    shards = [list(shard_indices(count, rank, world)) for rank in range(world)]
    assert sorted(i for shard in shards for i in shard) == list(range(count))
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    assert shards == [list(shard_indices(count, rank, world)) for rank in range(world)]


def test_context_reads_torchrun_environment(monkeypatch):
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "1")
    ctx = DistContext.from_env()
    assert (ctx.rank, ctx.world_size, ctx.local_rank, ctx.distributed) == (3, 4, 1, True)
    assert not ctx.is_main
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name)
    assert DistContext.from_env() == DistContext(0, 1, 0)


def test_device_follows_local_rank_only_with_cuda():
    ctx = DistContext(rank=1, world_size=2, local_rank=1)
    if torch.cuda.is_available():
        assert resolve_device(None, ctx) == f"cuda:{1 % torch.cuda.device_count()}"
    else:
        assert resolve_device(None, ctx) == resolve_device("auto", ctx) == "cpu"
    assert resolve_device("cpu", ctx) == "cpu"
    assert resolve_device(None, DistContext()) == "cpu"  # one process keeps the old default
