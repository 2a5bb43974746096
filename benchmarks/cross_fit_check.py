"""Do out-of-fold probe logits look like test predictions? Speaker folds vs the speaker x
sentence grid (training/cross_fit.py), on a corpus with a `carrier` column (the demo corpus).

For the pooled text and audio features of the training split, a logistic probe (C 0.01, as
`readout_fit` would pick on the demo) predicts each training item out of fold; its accuracy per
carrier is printed beside the same probe's accuracy on the test split (fitted on all training
items). Folds whose out-of-fold accuracy matches the test's are the ones to train a gate on.

    PYTHONPATH=src python benchmarks/cross_fit_check.py <corpus>/manifest.csv <demo>/features
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from hri_emo.data.store.feature_store import FeatureStore
from hri_emo.training.cross_fit import FoldKey, fold_splits, sentence_of

CARRIERS = ("words", "voice", "both", "conflict")


def probe(x: np.ndarray, y: np.ndarray) -> tuple[StandardScaler, LogisticRegression]:
    scaler = StandardScaler().fit(x)
    return scaler, LogisticRegression(C=0.01, max_iter=3000).fit(scaler.transform(x), y)


def by_carrier(predicted: np.ndarray, rows: pd.DataFrame) -> dict[str, float]:
    hits = predicted == rows.label.values
    return {c: round(float(hits[(rows.carrier == c).values].mean()), 3) for c in CARRIERS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest")
    parser.add_argument("features", help="the demo's features folder (text-timed.h5, audio.h5)")
    args = parser.parse_args()
    rows = pd.read_csv(args.manifest)
    train, test = rows[rows.split == "train"], rows[rows.split == "test"]
    keys = {
        "speaker folds": [FoldKey(s) for s in train.speaker],
        "speaker x sentence grid": [
            FoldKey(s, sentence_of(t)) for s, t in zip(train.speaker, train.text)
        ],
    }
    for modality, name in (("text", "text-timed.h5"), ("audio", "audio.h5")):
        try:
            store = FeatureStore.open(f"{args.features}/{name}")
        except Exception:
            store = FeatureStore.open(f"{args.features}/text.h5")
        pooled = {i: np.asarray(store.read(i).features, dtype=np.float64).mean(0) for i in rows.id}
        x_train = np.stack([pooled[i] for i in train.id])
        x_test = np.stack([pooled[i] for i in test.id])
        y = train.label.values
        result = {}
        for label, fold_keys in keys.items():
            predicted = np.empty(len(y), dtype=object)
            for fitted, held in fold_splits(fold_keys):
                scaler, model = probe(x_train[fitted], y[fitted])
                predicted[held] = model.predict(scaler.transform(x_train[held]))
            result[f"out of fold, {label}"] = by_carrier(predicted, train)
        scaler, model = probe(x_train, y)
        result["test"] = by_carrier(model.predict(scaler.transform(x_test)), test)
        print(modality, json.dumps(result, indent=1), flush=True)


if __name__ == "__main__":
    main()
