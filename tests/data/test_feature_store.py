"""FeatureStore on real HDF5 files: round trips, validation, metadata, resume and crash safety."""

from __future__ import annotations

import multiprocessing
import pickle
import random
import signal
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore
from hri_emo.data.store.journal import journal_dir
from hri_emo.errors import ConfigError, DataError, FeatureMismatchError

TEXT = FeatureMetadata(encoder="minilm", revision="r1", modality="text", level="sequence", dim=8)
AUDIO = FeatureMetadata(
    encoder="whisper-tiny-en",
    revision="r2",
    modality="audio",
    level="sequence",
    dim=6,
    layer="4",
    sample_rate=16000,
    extra={"pooling": "none", "window_s": [0.02, 0.02]},
)


def seq(length: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((length, dim)).astype(np.float32)


def times(length: int, hop: float = 0.02) -> np.ndarray:
    start = np.arange(length) * hop
    return np.stack([start, start + hop], axis=1)


def test_sequence_round_trip_with_unicode_tokens(tmp_path):
    path = tmp_path / "text.h5"
    tokens = ["Ça", "va", "très", "bien", "😀", "東京", "", "end"]
    with FeatureStore.create(path, TEXT) as store:
        store.write("a", seq(8, seed=1), tokens=tokens, frame_times=times(8))
        store.write("b", seq(3, seed=2))
    with FeatureStore.open(path) as store:
        a, b = store.read("a"), store.read("b")
    np.testing.assert_array_equal(a.features, seq(8, seed=1))
    assert a.features.dtype == np.float32
    assert a.tokens == tokens
    np.testing.assert_array_equal(a.frame_times, times(8))
    np.testing.assert_array_equal(b.features, seq(3, seed=2))
    assert b.tokens is None and b.frame_times is None


def test_pooled_round_trip_and_float16_storage(tmp_path):
    meta = FeatureMetadata("minilm", "r1", "text", "pooled", dim=8)
    vector = seq(1)[0]
    with FeatureStore.create(tmp_path / "p16.h5", meta, dtype="float16") as store:
        store.write("u1", vector, tokens=["hello", "there"])
    with FeatureStore.open(tmp_path / "p16.h5") as store:
        got = store.read("u1")
        assert store.length("u1") == 1
    assert got.features.shape == (8,) and got.features.dtype == np.float32
    np.testing.assert_allclose(got.features, vector, rtol=1e-3, atol=1e-3)
    assert got.tokens == ["hello", "there"]
    with h5py.File(tmp_path / "p16.h5") as file:
        assert file["utterances/u1/features"].dtype == np.float16


def test_float16_overflow_is_refused(tmp_path):
    store = FeatureStore.create(tmp_path / "f.h5", TEXT, dtype="float16")
    with pytest.raises(DataError, match=r"'big'.*float16"):
        store.write("big", np.full((2, 8), 1e6, np.float32))
    store.close()


def test_metadata_round_trip(tmp_path):
    FeatureStore.create(tmp_path / "a.h5", AUDIO).close()
    FeatureStore.create(tmp_path / "t.h5", TEXT).close()
    with FeatureStore.open(tmp_path / "a.h5") as store:
        assert store.metadata == AUDIO
    with FeatureStore.open(tmp_path / "t.h5") as store:
        assert store.metadata.sample_rate is None
        assert store.metadata.created == TEXT.created
        assert store.metadata.format_version == 1


def test_ids_needing_escapes_are_readable_with_plain_h5py(tmp_path):
    ids = ["Ses01F_impro01/F000", "vid[3]", ".", "..", "%2F", "a b/c[1]"]
    path = tmp_path / "s.h5"
    with FeatureStore.create(path, TEXT) as store:
        for i, utt_id in enumerate(ids):
            store.write(utt_id, seq(i + 1, seed=i))
    with h5py.File(path, "r") as file:
        assert file["index/ids"].asstr()[()].tolist() == ids
        stored = {g.attrs["id"]: g["features"][()] for g in file["utterances"].values()}
        assert file.attrs["dim"] == 8 and file.attrs["encoder"] == "minilm"
    assert sorted(stored) == sorted(ids)
    for i, utt_id in enumerate(ids):
        np.testing.assert_array_equal(stored[utt_id], seq(i + 1, seed=i))


def test_append_after_reopen_keeps_write_order(tmp_path):
    path = tmp_path / "s.h5"
    with FeatureStore.create(path, TEXT) as store:
        store.write("x2", seq(2))
        store.write("x1", seq(1))
    with FeatureStore.open(path, "a") as store:
        assert "x2" in store and len(store) == 2
        store.write("x0", seq(4))
    with FeatureStore.open(path) as store:
        assert store.ids() == ["x2", "x1", "x0"]
        np.testing.assert_array_equal(store.read("x0").features, seq(4))
    assert not journal_dir(path).exists()


def test_duplicate_id_needs_overwrite(tmp_path):
    path = tmp_path / "s.h5"
    with FeatureStore.create(path, TEXT) as store:
        store.write("u", seq(2, seed=1))
        with pytest.raises(DataError, match="'u' is already stored"):
            store.write("u", seq(2, seed=2))
    with FeatureStore.open(path, "a") as store:
        with pytest.raises(DataError, match="'u' is already stored"):
            store.write("u", seq(2, seed=2))
        store.write("u", seq(5, seed=3), overwrite=True)
        np.testing.assert_array_equal(store.read("u").features, seq(5, seed=3))
    with FeatureStore.open(path) as store:
        assert store.ids() == ["u"]
        np.testing.assert_array_equal(store.read("u").features, seq(5, seed=3))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"features": np.zeros((3, 7))}, FeatureMismatchError, "dim 7.*dim 8"),
        ({"features": np.zeros(8)}, DataError, r"must be \(T, D\)"),
        ({"features": np.zeros((0, 8))}, DataError, "empty sequence"),
        ({"features": np.full((3, 8), np.nan)}, DataError, "24 NaN/Inf"),
        ({"features": np.array([[np.inf] * 8])}, DataError, "NaN/Inf"),
        ({"features": np.zeros((3, 8)), "tokens": ["a", "b"]}, DataError, "2 tokens for 3"),
        ({"features": np.zeros((3, 8)), "frame_times": np.zeros((3, 3))}, DataError, r"\(3, 2\)"),
        ({"features": np.zeros((3, 8)), "frame_times": np.zeros((2, 2))}, DataError, r"\(3, 2\)"),
        (
            {"features": np.zeros((1, 8)), "frame_times": np.array([[1.0, 0.5]])},
            DataError,
            "end is before",
        ),
    ],
)
def test_write_validation_names_the_utterance(tmp_path, kwargs, error, match):
    with FeatureStore.create(tmp_path / "s.h5", TEXT) as store:
        with pytest.raises(error, match=match) as info:
            store.write("spk1/utt7", **kwargs)
        assert "'spk1/utt7'" in str(info.value)
        assert "spk1/utt7" not in store
        store.write("ok", seq(1))
    with FeatureStore.open(tmp_path / "s.h5") as store:
        assert store.ids() == ["ok"]


def test_check_compatible_explains_the_mismatch(tmp_path):
    meta = FeatureMetadata("bert-base", "r", "text", "sequence", dim=768)
    with FeatureStore.create(tmp_path / "bert.h5", meta) as store:
        store.check_compatible(dim=768, encoder="bert-base", modality="text", level="sequence")
        with pytest.raises(FeatureMismatchError) as info:
            store.check_compatible(dim=384)
        message = str(info.value)
        assert "bert.h5 has dim 768 from encoder 'bert-base'" in message
        assert "model expects dim 384" in message
        with pytest.raises(FeatureMismatchError, match="modality 'audio'"):
            store.check_compatible(modality="audio", expected_by="audio branch")


def test_open_errors(tmp_path):
    with pytest.raises(DataError, match="no feature store"):
        FeatureStore.open(tmp_path / "missing.h5")
    with h5py.File(tmp_path / "other.h5", "w") as file:
        file["x"] = 1
    with pytest.raises(DataError, match="not an HRI-EMO feature store"):
        FeatureStore.open(tmp_path / "other.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(DataError, match="cannot be read"):
        FeatureStore.open(tmp_path / "junk.h5")
    with pytest.raises(ConfigError, match="mode"):
        FeatureStore.open(tmp_path / "other.h5", "w")
    FeatureStore.create(tmp_path / "s.h5", TEXT).close()
    with pytest.raises(DataError, match="already exists"):
        FeatureStore.create(tmp_path / "s.h5", TEXT)


def test_read_only_and_single_writer(tmp_path):
    path = tmp_path / "s.h5"
    writer = FeatureStore.create(path, TEXT)
    with pytest.raises(DataError, match="locked by another writer"):
        FeatureStore.open(path, "a")
    writer.write("a", seq(2))
    writer.commit()
    with FeatureStore.open(path) as reader:  # readers see committed shards while writing goes on
        assert reader.ids() == ["a"]
        with pytest.raises(DataError, match="read-only"):
            reader.write("b", seq(1))
        with pytest.raises(DataError, match="'zzz' is not in feature store"):
            reader.read("zzz")
    writer.close()
    with pytest.raises(DataError, match="closed"):
        writer.read("a")


def test_uncommitted_writes_are_visible_but_not_durable(tmp_path):
    path = tmp_path / "s.h5"
    store = FeatureStore.create(path, TEXT, commit_every=100)
    store.write("a", seq(2))
    assert store.ids() == ["a"] and store.read("a").features.shape == (2, 8)
    with FeatureStore.open(path) as reader:
        assert len(reader) == 0
    store.commit()
    with FeatureStore.open(path) as reader:
        assert reader.ids() == ["a"]
    store.close()


def test_overwrite_create_discards_old_store_and_journal(tmp_path):
    path = tmp_path / "s.h5"
    old = FeatureStore.create(path, TEXT, merge_ratio=1e9)  # keep the shard in the journal
    old.write("old", seq(1))
    old.commit()
    old._lock.release(remove_journal=False)  # as if the writer had been killed
    with FeatureStore.create(path, AUDIO, overwrite=True) as store:
        assert len(store) == 0 and store.metadata.dim == 6
    with FeatureStore.open(path) as store:
        assert store.ids() == [] and store.metadata == AUDIO


def test_recovers_from_files_a_crash_leaves_behind(tmp_path):
    path = tmp_path / "s.h5"
    store = FeatureStore.create(path, TEXT, merge_ratio=1e9)
    store.write("merged", seq(1))
    store.merge()
    store.write("journaled", seq(2))
    store.commit()
    journal = journal_dir(path)
    stale_seq = int(h5py.File(path, "r").attrs["journal_seq"])
    shard = next(journal.glob("shard-*.h5"))
    store._lock.release(remove_journal=False)  # as if killed here
    # what other crash points leave: a half-written merge, a half-written shard, a merged shard
    (journal / "s.h5.merge.tmp").write_bytes(b"\x89HDF\r\n partial")
    (journal / f"shard-{int(shard.name[6:14]) + 1:08d}.h5.tmp").write_bytes(b"partial")
    shard.with_name(f"shard-{stale_seq:08d}.h5").write_bytes(shard.read_bytes())
    with FeatureStore.open(path) as reader:
        assert reader.ids() == ["merged", "journaled"]
    with FeatureStore.open(path, "a") as store:
        assert store.ids() == ["merged", "journaled"]
        assert not list(journal.glob("*.tmp"))
        store.write("new", seq(3))
    with FeatureStore.open(path) as store:
        assert store.ids() == ["merged", "journaled", "new"]
    assert not journal.exists()


def test_pickled_store_reopens_read_only(tmp_path):
    with FeatureStore.create(tmp_path / "s.h5", TEXT) as store:
        store.write("a", seq(3))
    with FeatureStore.open(tmp_path / "s.h5") as store:
        clone = pickle.loads(pickle.dumps(store))
    np.testing.assert_array_equal(clone.read("a").features, seq(3))
    assert clone.mode == "r"
    clone.close()


# ------------------------------------------------------------------------ crash safety (SIGKILL)
CRASH_META = FeatureMetadata("minilm", "r1", "text", "sequence", dim=16)
ENDLESS = 10**6  # a killed writer never reaches the end


def crash_id(i: int) -> str:
    return f"spk{i % 3}/utt[{i}]"


def crash_features(i: int) -> np.ndarray:
    return np.random.default_rng(i).standard_normal((1 + i % 9, 16)).astype(np.float32)


def write_until_done(path: Path, total: int, merge_ratio: float, ready) -> None:
    """The writer process: create or resume the store and write every missing utterance."""
    options = {"commit_every": 5, "merge_ratio": merge_ratio}
    if path.exists():
        store = FeatureStore.open(path, "a", **options)
    else:
        store = FeatureStore.create(path, CRASH_META, **options)
    ready.set()
    for i in range(total):
        if crash_id(i) not in store:
            features = crash_features(i)
            store.write(crash_id(i), features, tokens=[f"w{i}_{j}" for j in range(len(features))])
    store.close()


def check_integrity(path: Path) -> set[str]:
    """Every listed id reads back exactly what was written, and none is listed twice."""
    with FeatureStore.open(path) as store:
        ids = store.ids()
        assert len(ids) == len(set(ids)) == len(store)
        for utt_id in ids:
            i = int(utt_id.split("[")[1].rstrip("]"))
            assert utt_id == crash_id(i)
            got = store.read(utt_id)
            np.testing.assert_array_equal(got.features, crash_features(i))
            assert got.tokens == [f"w{i}_{j}" for j in range(len(got.features))]
    with h5py.File(path, "r") as file:  # the main file alone is a valid HDF5 file too
        assert set(file["index/ids"].asstr()[()]) <= set(ids)
    return set(ids)


def run_killed_writer(path: Path, rounds: int, rng: random.Random) -> list[int]:
    """SIGKILL a writer process `rounds` times at random moments, checking the store after each
    kill, then let one run to completion.

    Rounds alternate between rare merges (kills land mostly in shard commits) and a merge after
    almost every commit (kills land mostly inside merges).
    """
    context = multiprocessing.get_context("fork")
    seen: set[str] = set()
    counts = []
    for round_index in range(rounds):
        ready = context.Event()
        merge_ratio = 0.5 if round_index % 2 == 0 else 0.01
        writer = context.Process(target=write_until_done, args=(path, ENDLESS, merge_ratio, ready))
        writer.start()
        assert ready.wait(60), "writer did not start"
        time.sleep(rng.uniform(0.02, 0.4))
        writer.kill()
        writer.join()
        assert writer.exitcode == -signal.SIGKILL
        now = check_integrity(path)
        assert seen <= now, f"committed utterances lost: {sorted(seen - now)[:5]}"
        seen = now
        counts.append(len(now))
    total = len(seen) + 20
    writer = context.Process(target=write_until_done, args=(path, total, 1.0, context.Event()))
    writer.start()
    writer.join()
    assert writer.exitcode == 0
    assert check_integrity(path) == {crash_id(i) for i in range(total)}
    assert not journal_dir(path).exists()
    return counts


def test_store_survives_sigkill_at_random_moments(tmp_path):
    counts = run_killed_writer(tmp_path / "crash.h5", rounds=10, rng=random.Random(7))
    assert counts[-1] > counts[0] > 0  # the writer made progress between kills


@pytest.mark.slow
def test_store_survives_many_sigkills(tmp_path):
    counts = run_killed_writer(tmp_path / "crash.h5", rounds=60, rng=random.Random(11))
    assert counts == sorted(counts)
