"""A tiny multi-label run whose audio comes from manifest columns ("record", standardised) and
whose text comes from a feature store, and a tiny local BERT, for the recognizer tests."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore

TEXT_DIM, AUDIO_DIM = 8, 5
EMOTIONS = ["happy", "sad", "anger"]
WORDS = ["i", "am", "so", "happy", "sad", "today", "the", "robot", "is", "here", "you"]
SPLITS = {"train": 24, "valid": 12, "test": 12}


@dataclass
class RecordRun:
    """A trained run plus the raw (unstandardised) features of every utterance."""

    run_dir: Path
    text: dict[str, tuple[np.ndarray, list[str]]]  # id -> (T, TEXT_DIM) features, tokens
    audio: dict[str, np.ndarray]  # id -> (AUDIO_DIM,) manifest columns


def _write_corpus(folder: Path) -> tuple[Path, Path, RecordRun]:
    rng = np.random.default_rng(0)
    meta = FeatureMetadata(encoder="toy-text", revision="1", modality="text",
                           level="sequence", dim=TEXT_DIM)  # fmt: skip
    rows, texts, audios = [], {}, {}
    scale = np.array([100.0, 0.01, 5.0, 1.0, 30.0])  # very different ranges: needs z-scores
    offset = np.array([200.0, 0.0, -3.0, 1.0, 50.0])
    with FeatureStore.create(folder / "text.h5", meta) as store:
        for split, count in SPLITS.items():
            for i in range(count):
                utt_id = f"{split}_{i:03d}"
                target = (rng.random(len(EMOTIONS)) < 0.4).astype(int)
                target[i % len(EMOTIONS)] = 1
                tokens = list(rng.choice(WORDS, size=int(rng.integers(3, 6))))
                text = rng.normal(size=(len(tokens), TEXT_DIM)).astype(np.float32)
                text[:, :3] += 1.5 * target
                audio = rng.normal(size=AUDIO_DIM)
                audio[-3:] += 1.5 * target
                audio = (audio * scale + offset).astype(np.float32)
                store.write(utt_id, text, tokens=tokens)
                texts[utt_id], audios[utt_id] = (text, tokens), audio
                row = {"id": utt_id, "split": split, "text": " ".join(tokens),
                       "speaker": f"{split}-spk{i % 3}"}  # fmt: skip
                row.update({e: int(v) for e, v in zip(EMOTIONS, target)})
                row.update({f"audio_{d}": repr(float(v)) for d, v in enumerate(audio)})
                rows.append(row)
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return manifest, folder / "text.h5", RecordRun(folder / "runs" / "record", texts, audios)


@pytest.fixture(scope="session")
def record_run(tmp_path_factory) -> RecordRun:
    """`hri-emo train` for 2 epochs: text from a store, audio from manifest columns."""
    from hri_emo.cli.main import main

    folder = tmp_path_factory.mktemp("record_run")
    manifest, text_store, run = _write_corpus(folder)
    overrides = [
        f"data.corpus={manifest}",
        f"data.reader_options.emotion_columns=[{','.join(EMOTIONS)}]",
        f"data.text_features={text_store}",
        "data.audio_features=record",
        "data.standardize=[audio]",
        "data.batch_size=8",
        "model.name=hriemo-v2",
        "model.params.hidden_dim=16",
        "model.params.num_heads=2",
        "model.params.ff_mult=1",
        "optim.lr=0.01",
        "trainer.max_epochs=2",
        "trainer.accelerator=cpu",
        "trainer.enable_progress_bar=false",
        "train.tensorboard=false",
        f"train.output_dir={folder / 'runs'}",
        "train.run_name=record",
    ]
    assert main(["train", *overrides]) == 0
    return run


@pytest.fixture(scope="session")
def voice():
    """1.5 s of speech (eSpeak NG: "the train leaves at noon", then silence), float32 16 kHz:
    a recording the voice-activity detector admits, whose words are none of the tests' texts."""
    from hri_emo.synth import synthesize

    wave = synthesize("the train leaves at noon").resampled(16000).wave[:24000]
    return np.pad(wave, (0, 24000 - len(wave))).astype(np.float32)


SPOKEN = [
    "Please put the red cup on the kitchen table",
    "I am so happy to see you again today",
    "The robot will bring your coffee in five minutes",
]


@pytest.fixture(scope="session")
def asr_recognizer(embedded_model_dir):
    """The recognizer of `embedded_model_dir` with the embedded Whisper tiny.en ASR."""
    from hri_emo.inference import EmotionRecognizer

    return EmotionRecognizer.from_pretrained(embedded_model_dir, asr="auto")


@pytest.fixture(scope="session")
def spoken():
    """eSpeak NG renderings of SPOKEN (Speech objects with true word spans)."""
    from hri_emo.synth import synthesize

    return [synthesize(sentence) for sentence in SPOKEN]
