"""Bad input to `hri-emo extract` and interrupted extraction (issue 13): a missing text column,
a failure mid-run with --on-error fail, and a kill before the 256-utterance commit."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from hri_emo.cli.main import main
from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore

SRC = Path(__file__).parents[2] / "src"


@pytest.fixture
def manifest(tmp_path, voice, write_wav):
    """12 recordings, u5 silent (bad), and no text column."""
    (tmp_path / "wav").mkdir()
    rows = ["id,split,wav,label"]
    for i in range(12):
        samples = np.zeros(4000, np.float32) if i == 5 else voice(0.5, seed=i)
        write_wav(tmp_path / "wav" / f"u{i}.wav", samples)
        rows.append(f"u{i},train,wav/u{i}.wav,calm")
    path = tmp_path / "manifest.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_text_extraction_without_a_text_column_names_it(manifest, tmp_path, capsys):
    out = tmp_path / "text.h5"
    argv = ["extract", str(manifest), "--modality", "text", "--out", str(out), "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{manifest}: no text column 'text' (header: ['id', 'split', 'wav', 'label'])" in err
    assert "--option text_column=<column>" in err
    assert not out.exists()


def test_on_error_fail_keeps_what_was_written_and_a_rerun_resumes(manifest, tmp_path, capsys):
    out = tmp_path / "audio.h5"
    argv = ["extract", str(manifest), "--modality", "audio", "--encoder", "logmel",
            "--out", str(out), "--batch-size", "8", "--no-progress"]  # fmt: skip
    assert main(argv) == 2  # u5 is silent: in the first batch, after five good ones
    err = capsys.readouterr().err
    assert "utterance 'u5'" in err and "5 utterance(s) stored before it are kept" in err
    with FeatureStore.open(out) as store:
        assert store.ids() == ["u0", "u1", "u2", "u3", "u4"]
    assert main([*argv, "--on-error", "skip"]) == 0
    assert "6 written, 5 already in the store, 0 without audio, 1 failed" in capsys.readouterr().out
    with FeatureStore.open(out) as store:
        assert sorted(store.ids()) == sorted(f"u{i}" for i in range(12) if i != 5)


WRITER = textwrap.dedent(
    """
    import os, signal, sys, time
    import numpy as np
    from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore
    meta = FeatureMetadata(encoder="toy", revision="1", modality="audio", level="pooled", dim=4)
    store = FeatureStore.create(sys.argv[1], meta, commit_seconds=float(sys.argv[2]))
    store.write("u0", np.ones(4, np.float32))
    time.sleep(0.5)
    store.write("u1", np.ones(4, np.float32))  # the interval has passed: u0 and u1 commit
    store.write("u2", np.ones(4, np.float32))  # within the interval: pending at the kill
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


@pytest.mark.parametrize(("seconds", "kept"), [(0.3, ["u0", "u1"]), (600.0, [])])
def test_a_kill_loses_at_most_the_commit_interval(tmp_path, seconds, kept):
    """A real writer process killed with SIGKILL, long before 256 utterances."""
    path = tmp_path / "store.h5"
    done = subprocess.run(
        [sys.executable, "-c", WRITER, str(path), str(seconds)],
        env={"PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"},
        timeout=120,
    )
    assert done.returncode == -9
    with FeatureStore.open(path) as store:
        assert store.ids() == kept  # u2 was written within the interval before the kill


def test_commit_if_due_commits_only_after_the_interval(tmp_path):
    meta = FeatureMetadata(encoder="toy", revision="1", modality="audio", level="pooled", dim=4)
    with FeatureStore.create(tmp_path / "s.h5", meta, commit_seconds=3600) as store:
        store.write("u0", np.ones(4, np.float32))
        assert not store.commit_if_due() and store._pending
        store.commit_seconds = 0.0
        assert store.commit_if_due() and not store._pending
