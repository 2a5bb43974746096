"""A small manifest of real WAV files (one silent, one without a recording), `hri-emo` run under
a real `torchrun` (gloo on CPU), and a store comparison (as fixtures)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

BAD = "u03"  # silent recording: AudioError, an error row / --on-error policy
NO_AUDIO = "u06"  # no wav: "missing", not an error


def speech_like(seconds: float, seed: int, sr: int = 16000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    pitch = 110 + 15 * seed
    phase = 2 * np.pi * np.cumsum(pitch + 0.4 * pitch * np.sin(2 * np.pi * 0.7 * t)) / sr
    wave = sum(np.sin(k * phase) / k for k in range(1, 6))
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None) ** 0.5
    wave = 0.3 * wave * envelope / np.abs(wave).max() + 0.003 * rng.standard_normal(len(t))
    return wave.astype(np.float32)


def write_manifest(folder: Path, count: int = 10) -> Path:
    """manifest.csv (id, split, text, wav, label) over `count` utterances."""
    (folder / "wav").mkdir(parents=True, exist_ok=True)
    words = ["i am so happy today", "the robot is here", "you are sad", "so happy"]
    rows = []
    for i in range(count):
        utt = f"u{i:02d}"
        wav = f"wav/{utt}.wav"
        samples = speech_like(0.4 + 0.1 * (i % 5), seed=i)
        if utt == BAD:
            samples = np.zeros(4000, dtype=np.float32)
        if utt == NO_AUDIO:
            wav = ""
        else:
            sf.write(str(folder / wav), samples, 16000, subtype="PCM_16")
        rows.append((utt, "train", words[i % len(words)], wav, "happy" if i % 2 else "sad"))
    path = folder / "manifest.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "split", "text", "wav", "label"])
        writer.writerows(rows)
    return path


@pytest.fixture
def manifest(tmp_path) -> Path:
    return write_manifest(tmp_path / "corpus")


@pytest.fixture
def make_manifest():
    """make_manifest(folder, count=10) -> manifest.csv of `count` utterances (u03 silent, u06
    without a recording)."""
    return write_manifest


def env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def torchrun_command(nproc: int, *argv: str) -> list[str]:
    """`torchrun --standalone --nproc-per-node N -m hri_emo.cli ARGV` (a free port each time)."""
    return [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        f"--nproc-per-node={nproc}", "-m", "hri_emo.cli", *argv,
    ]  # fmt: skip


class Cli:
    """`hri-emo ARGV` in a subprocess: one process, or torchrun with `nproc` workers."""

    def __call__(self, *argv: str, nproc: int = 1, timeout: float = 120):
        single = [sys.executable, "-m", "hri_emo.cli", *argv]
        command = single if nproc == 1 else torchrun_command(nproc, *argv)
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env())

    def popen(self, nproc: int, *argv: str) -> subprocess.Popen:
        """Start a torchrun job without waiting for it."""
        return subprocess.Popen(
            torchrun_command(nproc, *argv),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
        )  # fmt: skip


@pytest.fixture
def cli() -> Cli:
    return Cli()


TOLERANCE = 1e-6


def assert_same_store(path: Path, reference: Path) -> None:
    """Same ids in the same order, metadata (but the creation time), and per utterance the same
    features (max abs difference <= 1e-6), tokens and frame times."""
    from hri_emo.data.store.feature_store import FeatureStore

    with FeatureStore.open(path) as got, FeatureStore.open(reference) as want:
        assert got.ids() == want.ids()
        meta_got, meta_want = asdict(got.metadata), asdict(want.metadata)
        meta_got.pop("created"), meta_want.pop("created")
        assert meta_got == meta_want
        for utt_id in want.ids():
            a, b = got.read(utt_id), want.read(utt_id)
            assert a.features.shape == b.features.shape, utt_id
            assert np.abs(a.features - b.features).max() <= TOLERANCE, utt_id
            assert a.tokens == b.tokens, utt_id
            if b.frame_times is None:
                assert a.frame_times is None
            else:
                np.testing.assert_allclose(a.frame_times, b.frame_times, atol=TOLERANCE)


@pytest.fixture
def same_store():
    """same_store(path, reference): assert two stores hold the same utterances."""
    return assert_same_store
