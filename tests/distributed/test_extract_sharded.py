"""`torchrun --nproc-per-node 2 -m hri_emo.cli extract` against a single-process run: the same
store (ids, order, features, tokens, frame times, metadata) and the same skip report; a bad
utterance on one rank; resuming a single-process store; shards of another encoder refused."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore
from hri_emo.distributed.store_merge import merge_shard_stores, shard_dir, shard_path
from hri_emo.errors import FeatureMismatchError

BAD, NO_AUDIO = "u03", "u06"  # see conftest.write_manifest


def no_hri_emo_traceback(stderr: str) -> bool:
    """True when no traceback goes through hri_emo (torchrun prints its own failure report)."""
    return re.search(r'File ".*hri_emo/', stderr) is None


def skip_report(path) -> dict:
    report = json.loads(path.with_name(path.name + ".skipped.json").read_text())
    return {key: report[key] for key in ("written", "already_present", "missing", "failed")}


def extract_args(manifest, out, *extra: str) -> list[str]:
    return ["extract", str(manifest), "--no-progress", "--out", str(out), *extra]


AUDIO = ("--modality", "audio", "--encoder", "logmel", "--on-error", "skip")


# the text variant and the resume/refusal variants below are slow (a torchrun each): -m slow
@pytest.mark.parametrize("modality", ["audio", pytest.param("text", marks=pytest.mark.slow)])
def test_two_workers_equal_one(manifest, tmp_path, tiny_bert_dir, modality, cli, same_store):
    settings = AUDIO
    if modality == "text":
        settings = ("--modality", "text", "--encoder", str(tiny_bert_dir), "--batch-size", "3",
                    "--on-error", "skip")  # fmt: skip
    single, sharded = tmp_path / "single.h5", tmp_path / "sharded.h5"
    done = cli(*extract_args(manifest, single, *settings))
    assert done.returncode == 0, done.stderr
    done = cli(*extract_args(manifest, sharded, *settings), nproc=2)
    assert done.returncode == 0, done.stderr
    assert "[2 workers]" in done.stdout
    same_store(sharded, single)
    assert skip_report(sharded) == skip_report(single)
    if modality == "audio":  # the bad file (on rank 1) is a row of the report, not a crash
        assert [f["id"] for f in skip_report(sharded)["failed"]] == [BAD]
        assert [m["id"] for m in skip_report(sharded)["missing"]] == [NO_AUDIO]
    assert not shard_dir(sharded).exists()  # merged and cleaned up


def test_bad_utterance_under_fail_stops_its_rank_only(manifest, tmp_path, cli, same_store):
    out = tmp_path / "f.h5"
    strict = [s for s in AUDIO if s not in ("--on-error", "skip")]
    done = cli(*extract_args(manifest, out, *strict), nproc=2)
    assert done.returncode != 0
    assert f"utterance '{BAD}'" in done.stderr and "rank 1" in done.stderr
    assert no_hri_emo_traceback(done.stderr)
    assert not out.exists()  # nothing merged
    with FeatureStore.open(shard_path(out, 0, 2)) as rank0:  # the other rank finished its shard
        assert rank0.ids() == ["u00", "u02", "u04", "u08"]
    with FeatureStore.open(shard_path(out, 1, 2)) as rank1:  # kept what preceded the bad file
        assert rank1.ids() == ["u01"]
    done = cli(*extract_args(manifest, out, *AUDIO), nproc=2)  # rerun, skipping bad files
    assert done.returncode == 0, done.stderr
    assert "3 written, 5 already in the store" in done.stdout
    single = tmp_path / "single.h5"
    assert cli(*extract_args(manifest, single, *AUDIO)).returncode == 0
    same_store(out, single)


@pytest.mark.slow
def test_sharded_run_resumes_a_single_process_store(manifest, tmp_path, cli, same_store):
    out, single = tmp_path / "resumed.h5", tmp_path / "single.h5"
    assert cli(*extract_args(manifest, out, *AUDIO, "--limit", "5")).returncode == 0
    done = cli(*extract_args(manifest, out, *AUDIO), nproc=2)
    assert done.returncode == 0, done.stderr
    assert "4 written, 4 already in the store" in done.stdout  # u00-u02 and u04 were there
    assert cli(*extract_args(manifest, single, *AUDIO)).returncode == 0
    same_store(out, single)


@pytest.mark.slow
def test_store_of_another_encoder_is_refused(manifest, tmp_path, tiny_bert_dir, cli):
    out = tmp_path / "a.h5"
    assert cli(*extract_args(manifest, out, *AUDIO, "--limit", "2")).returncode == 0
    done = cli(*extract_args(manifest, out, "--modality", "text", "--encoder",
                                 str(tiny_bert_dir)), nproc=2)  # fmt: skip
    assert done.returncode != 0 and str(out) in done.stderr
    assert "'logmel'" in done.stderr and str(tiny_bert_dir) in done.stderr
    assert no_hri_emo_traceback(done.stderr)


def _store(path, encoder: str, ids: list[str]) -> None:
    meta = FeatureMetadata(encoder=encoder, revision="1", modality="audio", level="pooled", dim=4)
    with FeatureStore.create(path, meta) as store:
        for utt_id in ids:
            store.write(utt_id, np.full(4, len(utt_id), dtype=np.float32))


def test_shards_of_different_encoders_refuse_to_merge_naming_both(tmp_path):
    out = tmp_path / "m.h5"
    first, second = shard_path(out, 0, 2), shard_path(out, 1, 2)
    first.parent.mkdir()
    _store(first, "enc-a", ["x0", "x2"])
    _store(second, "enc-b", ["x1"])
    with pytest.raises(FeatureMismatchError) as caught:
        merge_shard_stores(out, [first, second], ["x0", "x1", "x2"])
    message = str(caught.value)
    assert "enc-a" in message and "enc-b" in message
    assert str(first) in message and str(second) in message
    assert first.exists() and second.exists() and not out.exists()  # nothing lost


def test_stale_shards_of_another_encoder_refuse_the_sharded_run(manifest, tmp_path, cli):
    out = tmp_path / "s.h5"
    stale = shard_path(out, 2, 3)  # left by a 3-worker run of another encoder
    stale.parent.mkdir()
    _store(stale, "other-encoder", ["u00"])
    done = cli(*extract_args(manifest, out, *AUDIO), nproc=2)
    assert done.returncode != 0
    assert "other-encoder" in done.stderr and "logmel" in done.stderr
    assert no_hri_emo_traceback(done.stderr)


@pytest.mark.slow
def test_shards_of_another_worker_count_are_merged_first(manifest, tmp_path, cli, same_store):
    out, single = tmp_path / "w.h5", tmp_path / "single.h5"
    stale = shard_path(out, 2, 3)  # what a killed 3-worker run left: u00-u02 committed
    assert cli(*extract_args(manifest, stale, *AUDIO, "--limit", "3")).returncode == 0
    done = cli(*extract_args(manifest, out, *AUDIO), nproc=2)
    assert done.returncode == 0, done.stderr
    assert "5 written, 3 already in the store" in done.stdout
    assert not shard_dir(out).exists()
    assert cli(*extract_args(manifest, single, *AUDIO)).returncode == 0
    same_store(out, single)
