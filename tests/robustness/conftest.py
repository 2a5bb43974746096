"""A tiny corpus of recordings + transcripts through the embedded encoders, and two runs on it
(hriemo-v2 and the text-only baseline), for the robustness CLI tests."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

SENTENCES = {
    "happy": ["what a wonderful day", "i love this so much", "this is great news"],
    "sad": ["i miss my old friend", "nothing went right today", "i feel so alone"],
}
COUNTS = {"train": 6, "valid": 2, "test": 3}


@dataclass
class RecordedRuns:
    folder: Path
    manifest: Path
    v2: Path
    text_only: Path

    def train(self, name: str, model: str, *extra: str, manifest: Path | None = None) -> Path:
        """Another run on the corpus (or on `manifest`) with the same recipe."""
        return train(self.folder, manifest or self.manifest, name, model, *extra)


def voice(seconds: float, pitch: float) -> np.ndarray:
    """A voiced, pitch-gliding harmonic signal with syllable-like bursts, float32 16 kHz."""
    t = np.arange(int(seconds * 16000)) / 16000
    phase = 2 * np.pi * np.cumsum(pitch + 0.4 * pitch * np.sin(2 * np.pi * 0.7 * t)) / 16000
    wave = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None) ** 0.5
    return (0.3 * wave * envelope / np.abs(wave).max()).astype(np.float32)


def _write_manifest(folder: Path) -> Path:
    rows = []
    for split, count in COUNTS.items():
        for label, sentences in SENTENCES.items():
            for i in range(count):
                wav = folder / f"{split}_{label}_{i}.wav"
                sf.write(wav, voice(1.0 + 0.1 * i, 220 if label == "happy" else 110), 16000)
                rows.append({"id": wav.stem, "split": split, "text": sentences[i % 3],
                             "wav": wav.name, "label": label, "speaker": f"s{i}"})  # fmt: skip
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def train(folder: Path, manifest: Path, name: str, model: str, *extra: str) -> Path:
    from hri_emo.cli.main import main

    overrides = [
        f"data.corpus={manifest}",
        f"data.text_features={folder / 'text.h5'}",
        f"data.audio_features={folder / 'audio.h5'}",
        "data.batch_size=4",
        f"model.name={model}",
        "model.params.hidden_dim=16",
        "model.params.num_heads=2",
        "trainer.max_epochs=2",
        "trainer.accelerator=cpu",
        "trainer.enable_progress_bar=false",
        "train.tensorboard=false",
        f"train.output_dir={folder / 'runs'}",
        f"train.run_name={name}",
        *extra,
    ]
    assert main(["train", *overrides]) == 0
    return folder / "runs" / name


@pytest.fixture(scope="session")
def recorded_runs(tmp_path_factory) -> RecordedRuns:
    from hri_emo.cli.main import main

    folder = tmp_path_factory.mktemp("robust")
    manifest = _write_manifest(folder)
    for modality in ("text", "audio"):
        store = folder / f"{modality}.h5"
        args = ["extract", str(manifest), "--modality", modality, "--out", str(store)]
        assert main([*args, "--no-progress"]) == 0
    v2 = train(folder, manifest, "v2", "hriemo-v2")
    text_only = train(folder, manifest, "text", "text-only")
    return RecordedRuns(folder, manifest, v2, text_only)


@pytest.fixture(scope="session")
def feature_run(recorded_runs) -> Path:
    """The same corpus with audio as precomputed manifest columns (no recordings): the case of
    feature-only corpora such as MOSI's openSMILE functionals."""
    folder = recorded_runs.folder
    with recorded_runs.manifest.open() as handle:
        rows = list(csv.DictReader(handle))
    for i, row in enumerate(rows):
        sign = 1.0 if row["label"] == "happy" else -1.0
        row.update({f"audio_{d}": str(sign + 0.1 * ((i + d) % 5)) for d in range(4)})
        row["wav"] = ""
    manifest = folder / "features.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return recorded_runs.train("features", "hriemo-v2", "data.audio_features=record",
                               "data.standardize=[audio]", manifest=manifest)  # fmt: skip
