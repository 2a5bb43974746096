"""A corpus with a known answer, trained through `hri-emo train`: every utterance is filler
words plus exactly one key word ("great" -> positive, "awful" -> negative) at a random place;
the audio frames are noise. One word alone decides, so a faithful attribution must rank it
first and deleting it must flip the decision."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore

TEXT_DIM, AUDIO_DIM, FRAMES = 8, 4, 12
FILLER = ["the", "robot", "said", "that", "it", "was", "here", "today", "and", "then", "we", "go"]
KEYS = {"great": "positive", "awful": "negative"}
SPLITS = {"train": 240, "valid": 60, "test": 40}


@dataclass
class KeyWordRun:
    run_dir: Path
    key_position: dict[str, int]  # test id -> index of its key word


def _write_corpus(folder: Path) -> tuple[Path, Path, Path, dict[str, int]]:
    rng = np.random.default_rng(0)
    vocabulary = {w: rng.normal(size=TEXT_DIM) for w in [*FILLER, *KEYS]}
    text_meta = FeatureMetadata("toy-words", "1", "text", "sequence", TEXT_DIM)
    audio_meta = FeatureMetadata("toy-frames", "1", "audio", "sequence", AUDIO_DIM)
    rows, key_position = [], {}
    times = np.stack([np.arange(FRAMES) * 0.1, np.arange(1, FRAMES + 1) * 0.1], axis=1)
    with (
        FeatureStore.create(folder / "text.h5", text_meta) as text_store,
        FeatureStore.create(folder / "audio.h5", audio_meta) as audio_store,
    ):
        for split, count in SPLITS.items():
            for i in range(count):
                utt_id = f"{split}_{i:03d}"
                words = list(rng.choice(FILLER, size=int(rng.integers(4, 8))))
                key = list(KEYS)[i % 2]
                position = int(rng.integers(0, len(words) + 1))
                words.insert(position, key)
                features = np.stack([vocabulary[w] for w in words])
                features += 0.1 * rng.normal(size=features.shape)
                text_store.write(utt_id, features.astype(np.float32), tokens=words)
                frames = rng.normal(size=(FRAMES, AUDIO_DIM)).astype(np.float32)
                audio_store.write(utt_id, frames, frame_times=times)
                rows.append(
                    {
                        "id": utt_id,
                        "split": split,
                        "text": " ".join(words),
                        "label": KEYS[key],
                        "speaker": f"spk{i % 4}",
                    }
                )
                if split == "test":
                    key_position[utt_id] = position
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return manifest, folder / "text.h5", folder / "audio.h5", key_position


@pytest.fixture(scope="session")
def key_word_run(tmp_path_factory) -> KeyWordRun:
    from hri_emo.cli.main import main

    folder = tmp_path_factory.mktemp("key_word_run")
    manifest, text_store, audio_store, key_position = _write_corpus(folder)
    overrides = [
        f"data.corpus={manifest}",
        f"data.text_features={text_store}",
        f"data.audio_features={audio_store}",
        "data.batch_size=16",
        "model.name=hriemo-v2",
        "model.params.hidden_dim=16",
        "model.params.num_heads=2",
        "model.params.ff_mult=1",
        "optim.lr=0.005",
        "trainer.max_epochs=12",
        "trainer.accelerator=cpu",
        "trainer.enable_progress_bar=false",
        "train.tensorboard=false",
        "train.patience=100",
        f"train.output_dir={folder / 'runs'}",
        "train.run_name=keyword",
    ]
    assert main(["train", *overrides]) == 0
    return KeyWordRun(folder / "runs" / "keyword", key_position)
