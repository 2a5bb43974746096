"""A tiny corpus on disk for training tests: a CSV manifest plus real HDF5 feature stores.

The class (or emotions) of each utterance shifts its text and audio features, so a tiny model
can learn it in a few epochs; speakers keep train/valid/test apart.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore
from hri_emo.data.store.mixed_source import conditions_path

TEXT_DIM, AUDIO_DIM = 8, 6
WORDS = ["i", "am", "so", "happy", "sad", "today", "the", "robot", "is", "here", "you"]
EMOTIONS = ["happy", "sad", "anger"]
TINY_MODEL = ["model.params.hidden_dim=16", "model.params.num_heads=2", "model.params.ff_mult=1"]


@dataclass
class TinyCorpus:
    manifest: Path
    text_store: Path
    audio_store: Path
    task: str

    def overrides(self, tmp_path: Path, *extra: str) -> list[str]:
        """Config overrides for a fast CPU run on this corpus."""
        labels = "data.reader_options.label_column=label"
        if self.task == "multilabel":
            labels = f"data.reader_options.emotion_columns=[{','.join(EMOTIONS)}]"
        return [
            f"data.corpus={self.manifest}",
            labels,
            f"data.text_features={self.text_store}",
            f"data.audio_features={self.audio_store}",
            "data.batch_size=8",
            *TINY_MODEL,
            "optim.lr=0.01",
            "optim.warmup_fraction=0.0",
            "trainer.max_epochs=3",
            "trainer.accelerator=cpu",
            "trainer.enable_progress_bar=false",
            "trainer.log_every_n_steps=1",
            "train.tensorboard=false",
            f"train.output_dir={tmp_path / 'runs'}",
            *extra,
        ]


def _targets(rng: np.random.Generator, task: str, count: int) -> np.ndarray:
    if task == "singlelabel":
        return np.arange(count) % 2  # alternating classes 0 / 1
    targets = (rng.random((count, len(EMOTIONS))) < 0.4).astype(int)
    targets[np.arange(0, count, 4), 0] = 1  # every emotion occurs in every split
    targets[np.arange(1, count, 4), 1] = 1
    targets[np.arange(2, count, 4), 2] = 1
    return targets


def write_tiny_corpus(folder: Path, task: str = "singlelabel", per_split: int = 16) -> TinyCorpus:
    """Manifest + text/audio FeatureStores: `per_split` * 2 train, `per_split` valid and test."""
    rng = np.random.default_rng(0)
    sizes = {"train": 2 * per_split, "valid": per_split, "test": per_split}
    folder.mkdir(parents=True, exist_ok=True)
    text_meta = FeatureMetadata(encoder="toy-text", revision="1", modality="text",
                                level="sequence", dim=TEXT_DIM)  # fmt: skip
    audio_meta = FeatureMetadata(encoder="toy-audio", revision="1", modality="audio",
                                 level="sequence", dim=AUDIO_DIM)  # fmt: skip
    rows = []
    with (
        FeatureStore.create(folder / "text.h5", text_meta) as text_store,
        FeatureStore.create(folder / "audio.h5", audio_meta) as audio_store,
    ):
        for split, count in sizes.items():
            targets = _targets(rng, task, count)
            for i in range(count):
                utt_id = f"{split}_{i:03d}"
                signal = np.atleast_1d(targets[i]).astype(np.float32)
                tokens = list(rng.choice(WORDS, size=int(rng.integers(3, 6))))
                text = rng.normal(size=(len(tokens), TEXT_DIM)).astype(np.float32)
                text[:, : signal.size] += 1.5 * signal
                audio = rng.normal(size=(int(rng.integers(4, 8)), AUDIO_DIM)).astype(np.float32)
                audio[:, -signal.size :] += 1.5 * signal
                text_store.write(utt_id, text, tokens=tokens)
                audio_store.write(utt_id, audio)
                row = {"id": utt_id, "split": split, "text": " ".join(tokens),
                       "speaker": f"{split}-spk{i % 4}"}  # fmt: skip
                if task == "singlelabel":
                    row["label"] = ["calm", "excited"][int(targets[i])]
                else:
                    row.update({e: float(v) for e, v in zip(EMOTIONS, targets[i])})
                rows.append(row)
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return TinyCorpus(manifest, folder / "text.h5", folder / "audio.h5", task)


@pytest.fixture(scope="session")
def tiny_singlelabel(tmp_path_factory) -> TinyCorpus:
    return write_tiny_corpus(tmp_path_factory.mktemp("tiny_single"), "singlelabel")


@pytest.fixture(scope="session")
def tiny_multilabel(tmp_path_factory) -> TinyCorpus:
    return write_tiny_corpus(tmp_path_factory.mktemp("tiny_multi"), "multilabel")


@pytest.fixture(scope="module")
def tiny_noisy(tmp_path_factory) -> tuple[TinyCorpus, Path, dict]:
    """A 160-item tiny corpus with a noisy copy of its audio store and the recorded SNRs: each
    frame mixed with a noise frame (a fixed pattern, jittered) in the share w = 1 / (1 +
    10^(SNR/20)), so frames look more like the noise as the SNR falls (as encoder frames do; a
    louder copy of the same frame would look the same after the head's layer norm); 10 %
    replaced by noise alone."""
    folder = tmp_path_factory.mktemp("tiny_noisy")
    corpus = write_tiny_corpus(folder, per_split=40)
    rng = np.random.default_rng(1)
    meta = FeatureMetadata(encoder="toy-audio", revision="1", modality="audio",
                           level="sequence", dim=AUDIO_DIM)  # fmt: skip
    path, conditions = folder / "audio-noisy.h5", {}
    pattern = np.array([3.0, -3.0] * (AUDIO_DIM // 2))
    with FeatureStore.open(corpus.audio_store) as clean, FeatureStore.create(path, meta) as out:
        for utt_id in clean.ids():
            frames = np.asarray(clean.read(utt_id).features)
            noise = pattern + rng.normal(scale=0.3, size=frames.shape)
            if rng.random() < 0.1:
                out.write(utt_id, noise.astype(np.float32))
                conditions[utt_id] = {"noise": "noise-only", "snr_db": None}
                continue
            snr = float(rng.uniform(-5, 25))
            share = 1.0 / (1.0 + 10 ** (snr / 20))
            out.write(utt_id, ((1 - share) * frames + share * noise).astype(np.float32))
            conditions[utt_id] = {"noise": "white", "snr_db": snr}
    conditions_path(path).write_text(json.dumps(conditions))
    return corpus, path, conditions
