"""The linear probe beside every model: logistic regression on mean-pooled features of a config.

Reads the corpus and feature stores exactly as `hri-emo train` would (same splits, same
standardisation), mean-pools each item's text and audio features over their valid positions,
and fits StandardScaler + LogisticRegression on the training split only (the standard
protocol: nothing from validation or test). Prints test (or --split val) accuracy, UA, weighted
and macro F1 for the text probe, the audio probe and the probe of both (concatenated), at
scikit-learn's default C = 1 and with C chosen by 5-fold cross-validation on the training split
(LogisticRegressionCV). Single-label tasks only.

    python benchmarks/probe_baseline.py --config configs/cmu_mosi.yaml
    python benchmarks/probe_baseline.py --config hri-emo-demo/benchmark/benchmark.yaml
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from hri_emo.training.config import load_config
from hri_emo.training.datamodule import EmotionDataModule


def pooled(datamodule: EmotionDataModule, stage: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """modality -> (N, D) mean over valid positions (zeros without it), and the labels."""
    parts: dict[str, list[np.ndarray]] = {"text": [], "audio": []}
    labels = []
    for batch in datamodule.loader(stage):
        for name in parts:
            features, mask = getattr(batch, name), getattr(batch, f"{name}_mask")
            if features is None:
                continue
            weights = mask.to(features.dtype)[..., None]
            mean = (features.nan_to_num() * weights).sum(1) / weights.sum(1).clamp(min=1)
            parts[name].append(mean.numpy())
        labels.append(batch.labels.numpy())
    return {k: np.concatenate(v) for k, v in parts.items() if v}, np.concatenate(labels)


def scores(y: np.ndarray, predicted: np.ndarray) -> str:
    values = (
        accuracy_score(y, predicted),
        balanced_accuracy_score(y, predicted),
        f1_score(y, predicted, average="weighted"),
        f1_score(y, predicted, average="macro"),
    )
    return " | ".join(f"{v:.3f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--split", default="test", choices=("val", "test"))
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = load_config(args.config, args.overrides)
    if cfg.data.context_turns:
        cfg.data.context_turns = 0
    datamodule = EmotionDataModule(cfg.data, seed=cfg.train.seed)
    datamodule.setup("fit")
    train_x, train_y = pooled(datamodule, "train")
    test_x, test_y = pooled(datamodule, args.split)
    datamodule.close()
    sets = dict(train_x)
    if len(train_x) == 2:
        sets["text + audio"] = np.hstack([train_x["text"], train_x["audio"]])
        test_x["text + audio"] = np.hstack([test_x["text"], test_x["audio"]])
    print(f"{cfg.name}, {args.split} split, trained on {len(train_y)} training items")
    print("| probe | C | accuracy | UA | weighted F1 | macro F1 |\n|---|---|---|---|---|---|")
    for name, x in sets.items():
        for label, model in (
            ("1", LogisticRegression(C=1.0, max_iter=5000)),
            ("5-fold CV", LogisticRegressionCV(Cs=10, cv=5, max_iter=5000)),
        ):
            probe = make_pipeline(StandardScaler(), model).fit(x, train_y)
            print(f"| {name} | {label} | {scores(test_y, probe.predict(test_x[name]))} |")


if __name__ == "__main__":
    main()
