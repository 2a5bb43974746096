"""Sharded extraction and batch prediction over `torch.distributed` (launched by `torchrun`).

    torchrun --nproc-per-node 2 -m hri_emo.cli extract corpus.csv --modality text --out f.h5

Every rank takes a deterministic strided shard of the utterances (`shard_indices`), writes its
own resumable output beside the final one, and rank 0 merges after the ranks have met.
docs/scaling.md explains the choices.
"""

from hri_emo.distributed.context import DistContext, resolve_device, shard_indices

__all__ = ["DistContext", "resolve_device", "shard_indices"]
