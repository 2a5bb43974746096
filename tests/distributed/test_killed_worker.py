"""SIGKILL one torchrun worker in the middle of a sharded extraction, rerun the same command:
only the missing utterances are encoded, and the store equals a single-process run's."""

from __future__ import annotations

import os
import re
import signal
import time

from hri_emo.data.store.feature_store import FeatureStore
from hri_emo.distributed.store_merge import shard_path

COUNT = 400  # 200 per rank, one durable commit each: seconds of work to kill in the middle of


def _committed(path) -> int:
    with FeatureStore.open(path) as store:
        return len(store)


def _wait_for_progress(out, process, minimum: int = 5) -> int:
    """The pid of rank 1 once its shard store holds `minimum` committed utterances."""
    lock = shard_path(out, 1, 2).with_name(shard_path(out, 1, 2).name + ".journal") / "LOCK"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if shard_path(out, 1, 2).exists() and _committed(shard_path(out, 1, 2)) >= minimum:
                return int(lock.read_text())
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    raise AssertionError("rank 1 made no progress before the run ended")


def test_killed_worker_then_resume_finishes_only_the_missing_work(
    tmp_path, make_manifest, cli, same_store
):
    manifest = make_manifest(tmp_path / "corpus", COUNT)
    out, single = tmp_path / "sharded.h5", tmp_path / "single.h5"
    argv = ["extract", str(manifest), "--modality", "audio", "--encoder", "logmel",
            "--on-error", "skip", "--no-progress", "--batch-size", "1",
            "--commit-every", "1"]  # fmt: skip
    process = cli.popen(2, *argv, "--out", str(out))
    try:
        os.kill(_wait_for_progress(out, process), signal.SIGKILL)
    finally:
        process.communicate(timeout=120)
    assert process.returncode != 0 and not out.exists()
    committed = sum(_committed(shard_path(out, rank, 2)) for rank in (0, 1))
    expected = COUNT - 2  # the silent file fails, one utterance has no recording
    assert 0 < committed < expected
    assert _committed(shard_path(out, 1, 2)) < expected // 2  # killed in the middle

    done = cli(*argv, "--out", str(out), nproc=2)
    assert done.returncode == 0, done.stderr
    written, present = map(int, re.search(r"(\d+) written, (\d+) already", done.stdout).groups())
    assert (written, present) == (expected - committed, committed)
    assert cli(*argv, "--out", str(single)).returncode == 0
    same_store(out, single)
