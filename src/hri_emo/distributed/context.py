"""Who this process is in a `torchrun` job, and the few collectives the sharded commands need.

Coordination only exchanges small Python objects (reports, error messages), so it always uses
the gloo backend, also on GPU machines: the encoders run on `cuda:LOCAL_RANK` while the process
group stays off the GPU (no NCCL device pinning, no GPU memory for collectives).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch

from hri_emo.errors import HriEmoError

# A rank that finishes its shard waits at the meeting point for the slowest one; with resumed
# runs that can be hours, so the collective timeout is long. A crashed rank does not make the
# others wait that long: torchrun tears the whole job down when a worker dies.
TIMEOUT_ENV = "HRI_EMO_DIST_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 48 * 3600


@dataclass
class DistContext:
    """Rank, world size and local rank of this process (1 process when not launched)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> DistContext:
        """Read torchrun's RANK / WORLD_SIZE / LOCAL_RANK (a plain run is rank 0 of 1)."""
        env = os.environ
        return cls(
            int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0))
        )

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def start(self) -> None:
        """Join the process group (gloo, env:// rendezvous from torchrun)."""
        import torch.distributed as dist

        if self.distributed and not dist.is_initialized():
            seconds = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S))
            dist.init_process_group("gloo", timeout=timedelta(seconds=seconds))

    def stop(self) -> None:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()

    def run(self, work: Callable[[], Any]) -> tuple[bool, Any]:
        """(done, its value) of `work()` run between `start()` and `stop()`. An HriEmoError,
        which every rank raises alike, propagates on rank 0; the other ranks get (False, None)
        and exit 2 quietly."""
        self.start()
        try:
            return True, work()
        except HriEmoError:
            if self.is_main:
                raise
            return False, None
        finally:
            self.stop()

    def gather(self, value: Any) -> list[Any]:
        """Every rank's `value`, in rank order, on every rank (a meeting point for all)."""
        if not self.distributed:
            return [value]
        import torch.distributed as dist

        values: list[Any] = [None] * self.world_size
        dist.all_gather_object(values, value)
        return values

    def broadcast(self, value: Any) -> Any:
        """Rank 0's `value` on every rank."""
        if not self.distributed:
            return value
        import torch.distributed as dist

        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]


def shard_indices(count: int, rank: int, world_size: int) -> range:
    """The positions rank `rank` of `world_size` handles: every world_size-th from `rank`.

    Strided rather than contiguous, so shards stay balanced when a corpus is sorted by speaker,
    length or recording session; a function of (count, rank, world_size) only."""
    return range(rank, count, world_size)


def resolve_device(device: str | None, ctx: DistContext) -> str:
    """The device of this rank: `cuda:LOCAL_RANK` (modulo the GPUs present) when CUDA is
    available and the device is left unset, "auto" or "cuda"; else the device given (or cpu)."""
    wants_cuda = device in (None, "auto", "cuda") if ctx.distributed else device in ("auto", "cuda")
    if wants_cuda and torch.cuda.is_available():
        return f"cuda:{ctx.local_rank % torch.cuda.device_count()}"
    if device in (None, "auto"):
        return "cpu"
    return device
