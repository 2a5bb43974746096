"""How fast a linear read-out of pooled Whisper features converges under AdamW (EmoDB folds).

The measurement behind `optim.readout_lr_scale`: the pooled read-out of `hriemo-v2`, alone
(per-layer LayerNorm, mean over frames, dropout 0.3, one Linear), trained on the 8 training
speakers of each fold with AdamW (weight decay 0.01, batch 32) at several learning rates for a
fixed number of epochs, then tested on the 2 held-out speakers. Reads the all-layer store that
`benchmarks/emodb_folds.py` extracts.

    PYTHONPATH=src python benchmarks/readout_convergence.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from hri_emo.data.readers import read_corpus
from hri_emo.data.store.feature_store import FeatureStore

REPO = Path(__file__).resolve().parents[1]
FOLDS = [("03", "08"), ("09", "10"), ("11", "12"), ("13", "14"), ("15", "16")]


def pooled(store_path: Path, manifest: Path) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    corpus = read_corpus(manifest, format="manifest", wav_column="file", label_column="emotion")
    labels = sorted({r.label for r in corpus.records})
    with FeatureStore.open(store_path) as store:
        layers = store.metadata.extra.get("num_layers", 1)
        rows = []
        for record in corpus.records:
            frames = torch.as_tensor(store.read(record.id).features, dtype=torch.float32)
            per_layer = frames.unflatten(-1, (layers, -1))  # (T, K, D')
            rows.append(F.layer_norm(per_layer, per_layer.shape[-1:]).flatten(-2).mean(0))
    y = torch.tensor([labels.index(r.label) for r in corpus.records])
    return torch.stack(rows), y, np.array([r.speaker for r in corpus.records])


def fold_accuracy(x, y, speakers, lr: float, epochs: int, seed: int = 0) -> float:
    accuracies = []
    for fold in FOLDS:
        torch.manual_seed(seed)
        test = torch.from_numpy(np.isin(speakers, fold))
        train = (~test).nonzero().flatten()
        linear = torch.nn.Linear(x.shape[1], int(y.max()) + 1)
        torch.nn.init.zeros_(linear.weight)
        torch.nn.init.zeros_(linear.bias)
        optimizer = torch.optim.AdamW(linear.parameters(), lr=lr, weight_decay=0.01)
        for _ in range(epochs):
            for batch in train[torch.randperm(len(train))].split(32):
                logits = linear(F.dropout(x[batch], 0.3))
                loss = F.cross_entropy(logits, y[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        with torch.no_grad():
            accuracies.append((linear(x[test]).argmax(-1) == y[test]).float().mean().item())
    return float(np.mean(accuracies))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--store", type=Path, default=Path("runs/emodb_folds/features/emodb_whisper_all.h5")
    )
    parser.add_argument(
        "--manifest", type=Path, default=REPO.parent / "shared/data/emodb/emodb_manifest.csv"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    x, y, speakers = pooled(args.store, args.manifest)
    print("| learning rate | 15 epochs | 30 epochs | 50 epochs |\n|---|---|---|---|")
    for lr in (3e-4, 1e-3, 3e-3, 1e-2):
        cells = [f"{fold_accuracy(x, y, speakers, lr, e):.3f}" for e in (15, 30, 50)]
        print(f"| {lr:g} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
