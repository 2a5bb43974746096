"""FeatureStore write and read throughput (utterances/s) on this machine.

Writes `--utterances` sequences of `--length` x `--dim` float32 with one token per position into
a fresh store with the default commit/merge settings (so the time includes journal commits,
fsync and merges), closes it, then reads every utterance back from a freshly opened store.

    .venv/bin/python benchmarks/bench_feature_store.py --utterances 2000 --length 150 --dim 384
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore


def bench(directory: Path, utterances: int, length: int, dim: int, dtype: str) -> dict[str, float]:
    path = directory / "bench.h5"
    meta = FeatureMetadata("bench", "none", "text", "sequence", dim)
    features = np.random.default_rng(0).standard_normal((length, dim)).astype(np.float32)
    tokens = [f"w{i}" for i in range(length)]
    start = time.perf_counter()
    with FeatureStore.create(path, meta, dtype=dtype) as store:
        for i in range(utterances):
            store.write(f"spk{i % 10}/utt{i}", features, tokens=tokens)
    write_s = time.perf_counter() - start
    start = time.perf_counter()
    with FeatureStore.open(path) as store:
        for utt_id in store.ids():
            store.read(utt_id)
    read_s = time.perf_counter() - start
    return {
        "write_utt_per_s": utterances / write_s,
        "read_utt_per_s": utterances / read_s,
        "file_mib": path.stat().st_size / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=2000)
    parser.add_argument("--length", type=int, default=150)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--dtype", choices=["float32", "float16"], default="float32")
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to write (default: a tmp dir)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        result = bench(Path(directory), args.utterances, args.length, args.dim, args.dtype)
    print(
        f"{args.utterances} x ({args.length}, {args.dim}) {args.dtype}: "
        f"write {result['write_utt_per_s']:.0f} utt/s, read {result['read_utt_per_s']:.0f} utt/s, "
        f"file {result['file_mib']:.0f} MiB"
    )


if __name__ == "__main__":
    main()
