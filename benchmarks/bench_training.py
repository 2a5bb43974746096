"""Training and evaluation throughput at CMU-MOSEI scale with sequence inputs.

Synthetic features of CMU-MOSEI's size: ~16k training utterances, 50 text positions x 384 dims
(MiniLM word sequences) and 150 audio frames x 384 dims (Whisper tiny.en frames, pooled), six
emotions, multi-label. `--source store` (default) writes them once into two real HDF5
FeatureStores (float16 storage, cached under --cache-dir) so the measured epoch includes
feature reading, collation and padding exactly as in training; `--source memory` keeps a pool of
512 distinct synthetic utterances in the records (no disk reads), to isolate the model.

One epoch of the real Lightning training loop (EmotionDataModule + EmotionLightningModule,
AdamW + cosine, gradient clipping, no validation) is timed per model, then evaluation
(`predict_loader`, no gradients) over --eval-utterances.

    python benchmarks/bench_training.py --models hriemo-v1,hriemo-v2
    python benchmarks/bench_training.py --source memory --train-utterances 2000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import lightning as L
import numpy as np
import torch

from hri_emo.data.records import Corpus, UtteranceRecord
from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore
from hri_emo.model.config import MOSEI_EMOTIONS
from hri_emo.training.config import load_config
from hri_emo.training.datamodule import EmotionDataModule
from hri_emo.training.evaluate import predict_loader
from hri_emo.training.train import build_module, build_trainer

POOL = 512  # distinct synthetic utterances in --source memory


class EpochTimer(L.Callback):
    """Wall-clock seconds of each training epoch."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_train_epoch_start(self, trainer, module) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer, module) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def synthetic_records(args: argparse.Namespace) -> list[UtteranceRecord]:
    rng = np.random.default_rng(0)
    records = []
    splits = [("train", args.train_utterances), ("valid", 64), ("test", args.eval_utterances)]
    for split, count in splits:
        for i in range(count):
            labels = {e: float(rng.random() < 0.25) for e in MOSEI_EMOTIONS}
            records.append(
                UtteranceRecord(
                    id=f"{split}-{i}",
                    corpus="synthetic",
                    split=split,
                    text="synthetic",
                    labels=labels,
                )
            )
    return records


def attach_memory_features(records: list[UtteranceRecord], args: argparse.Namespace) -> None:
    rng = np.random.default_rng(1)
    text = rng.standard_normal((POOL, args.text_len, args.dim), dtype=np.float32)
    audio = rng.standard_normal((POOL, args.audio_len, args.dim), dtype=np.float32)
    for i, record in enumerate(records):
        record.features = {"text": text[i % POOL], "audio": audio[i % POOL]}


def write_stores(records: list[UtteranceRecord], args: argparse.Namespace) -> tuple[Path, Path]:
    """Two float16 FeatureStores (reused when already complete in --cache-dir)."""
    cache = Path(args.cache_dir)
    paths = []
    for modality, length in (("text", args.text_len), ("audio", args.audio_len)):
        path = cache / f"synthetic_{modality}_{len(records)}x{length}x{args.dim}.h5"
        paths.append(path)
        if path.exists():
            with FeatureStore.open(path) as store:
                if len(store) == len(records):
                    continue
        metadata = FeatureMetadata(
            encoder=f"synthetic-{modality}",
            revision="0",
            modality=modality,
            level="sequence",
            dim=args.dim,
        )
        rng = np.random.default_rng(2)
        with FeatureStore.create(path, metadata, overwrite=True, dtype="float16") as store:
            for record in records:
                store.write(record.id, rng.standard_normal((length, args.dim), dtype=np.float32))
    return paths[0], paths[1]


def measure(model_name: str, corpus: Corpus, sources: tuple[str, str], args) -> dict[str, float]:
    overrides = [
        "data.corpus=synthetic",
        f"data.text_features={sources[0]}",
        f"data.audio_features={sources[1]}",
        f"data.batch_size={args.batch_size}",
        f"model.name={model_name}",
        "trainer.max_epochs=1",
        "trainer.limit_val_batches=0",
        "trainer.accelerator=cpu",
        "trainer.enable_progress_bar=false",
        "train.patience=0",
        "train.tensorboard=false",
        f"trainer.precision={args.precision}",
    ]
    cfg = load_config(None, overrides)
    datamodule = EmotionDataModule(cfg.data, corpus=corpus)
    datamodule.setup("fit")
    module = build_module(cfg, datamodule)
    timer = EpochTimer()
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = build_trainer(cfg, Path(run_dir), [timer])
        trainer.fit(module, datamodule=datamodule)
    train_items = len(datamodule.dataset("train"))
    start = time.perf_counter()
    predict_loader(module, datamodule.loader("test"))
    eval_seconds = time.perf_counter() - start
    eval_items = len(datamodule.dataset("test"))
    datamodule.close()
    return {
        "model": model_name,
        "parameters": sum(p.numel() for p in module.model.parameters()),
        "train_utterances": train_items,
        "train_epoch_s": timer.seconds[0],
        "train_utt_per_s": train_items / timer.seconds[0],
        "eval_utterances": eval_items,
        "eval_s": eval_seconds,
        "eval_utt_per_s": eval_items / eval_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="hriemo-v1,hriemo-v2")
    parser.add_argument("--source", choices=["store", "memory"], default="store")
    parser.add_argument("--train-utterances", type=int, default=16_000)
    parser.add_argument("--eval-utterances", type=int, default=4_000)
    parser.add_argument("--text-len", type=int, default=50)
    parser.add_argument("--audio-len", type=int, default=150)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", default="32-true", help="e.g. bf16-mixed (CPU autocast)")
    parser.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "hri_emo_bench"))
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    records = synthetic_records(args)
    corpus = Corpus("synthetic", records, list(MOSEI_EMOTIONS), "multilabel")
    if args.source == "memory":
        attach_memory_features(records, args)
        sources = ("record", "record")
    else:
        sources = tuple(str(p) for p in write_stores(records, args))
    results = [measure(name, corpus, sources, args) for name in args.models.split(",")]
    print(
        f"source={args.source} threads={torch.get_num_threads()} batch={args.batch_size} "
        f"precision={args.precision} "
        f"text {args.text_len}x{args.dim}, audio {args.audio_len}x{args.dim}"
    )
    print("| model | params | train epoch (s) | train utt/s | eval utt/s |")
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['model']} | {r['parameters']:,} | {r['train_epoch_s']:.1f} | "
            f"{r['train_utt_per_s']:.0f} | {r['eval_utt_per_s']:.0f} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
