"""What pooled features allow per carrier: probes, their concatenation and a gated mixture.

On a corpus whose manifest says which modality carries each label (the spoken demo corpus:
`carrier` and the measurement-only `voice_emotion` column), fits on the training and
validation voices, scores on the test voices, and prints per carrier:

- each store's probe (StandardScaler + LogisticRegression on the features as the model's pooled
  read-out sees them: layer-normalised per position, then averaged);
- for every audio store, how well its probe names the *voice's* emotion (`voice_emotion`, a
  column for measuring only: nothing is trained on it here but this one line);
- the probe of text and audio concatenated (early fusion of the pooled features);
- the gated mixture HRI-EMO's `experts` recipe is made of, fitted to convergence:
  (1 - b)·text probe + b·audio probe, b = sigmoid(w · pooled audio + c), the gate fitted on the
  probes' cross-fitted logits (speaker x sentence grid, training/cross_fit.py), so it sees how
  each probe fails on unheard voices and sentences.

    PYTHONPATH=src python benchmarks/carrier_probes.py DEMO/corpus/manifest.csv \
        --text DEMO/features/text-timed.h5 --audio whisper=DEMO/features/audio.h5 \
        --audio egemaps=E.h5
"""

from __future__ import annotations

import argparse
import csv

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from hri_emo.data import FeatureStore
from hri_emo.model.layers import normalize_layers
from hri_emo.training.cross_fit import FoldKey, fold_splits, sentence_of

CARRIERS = ("words", "voice", "both", "conflict")


def pooled(path: str, ids: list[str], layer_norm: bool = True) -> np.ndarray:
    """(N, D): what HRI-EMO's pooled read-out of each item sees (model/pooled.py): every
    position layer-normalised per encoder layer, then averaged (a pooled store: one position);
    `layer_norm=False`: the plain mean."""
    store = FeatureStore.open(path)
    try:
        layers = int((store.metadata.extra or {}).get("num_layers", 1))
        rows = [torch.as_tensor(store.read(i).features, dtype=torch.float64) for i in ids]
    finally:
        store.close()
    rows = [r.reshape(-1, r.shape[-1]) for r in rows]
    if layer_norm:
        rows = [normalize_layers(r, layers).flatten(-2) for r in rows]
    return np.stack([r.mean(0).numpy() for r in rows])


def probe(c: float):
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))


def cross_fitted(x: np.ndarray, y: np.ndarray, keys: list[FoldKey], c: float) -> np.ndarray:
    """(N, E) logits of each training item from a probe that did not see its voice or sentence."""
    out = np.zeros((len(x), len(np.unique(y))))
    for fitted, held in fold_splits(keys):
        out[held] = probe(c).fit(x[fitted], y[fitted]).decision_function(x[held])
    return out


def fit_gate(text_logits, audio_logits, gate_in, y, cost: float = 1e-3):
    """w, c, scaler of b = sigmoid(w · z(gate_in) + c) minimising the cross-entropy of
    (1 - b)·text + b·audio (L-BFGS, to convergence)."""
    mean, std = gate_in.mean(0), gate_in.std(0) + 1e-6
    z = torch.tensor((gate_in - mean) / std)
    t, a, target = torch.tensor(text_logits), torch.tensor(audio_logits), torch.tensor(y)
    w = torch.zeros(z.shape[1], dtype=torch.float64, requires_grad=True)
    c = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    solver = torch.optim.LBFGS([w, c], max_iter=500, line_search_fn="strong_wolfe")

    def objective():
        solver.zero_grad()
        b = torch.sigmoid(z @ w + c)[:, None]
        loss = torch.nn.functional.cross_entropy((1 - b) * t + b * a, target)
        loss = loss + cost * w.pow(2).sum()
        loss.backward()
        return loss

    solver.step(objective)
    return w.detach().numpy(), float(c.detach()), (mean, std)


def report(name: str, predicted, truth, carriers, extra: str = "") -> None:
    right = np.asarray(predicted) == np.asarray(truth)
    ua = np.mean([right[truth == k].mean() for k in np.unique(truth)])
    parts = " ".join(f"{c} {right[carriers == c].mean():.2f}" for c in CARRIERS)
    print(f"{name:44s} acc {right.mean():.3f} UA {ua:.3f} | {parts}{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest")
    parser.add_argument("--text", required=True, help="text feature store")
    parser.add_argument("--audio", action="append", required=True, help="NAME=store.h5")
    parser.add_argument("--c", type=float, default=0.1, help="the probes' C")
    parser.add_argument(
        "--plain-mean", action="store_true", help="no per-layer layer norm (as a probe reads)"
    )
    args = parser.parse_args()

    with open(args.manifest, newline="") as handle:
        rows = list(csv.DictReader(handle))
    train = [r for r in rows if r["split"] != "test"]
    test = [r for r in rows if r["split"] == "test"]
    emotions = sorted({r["label"] for r in rows})
    y, y_test = (np.array([emotions.index(r["label"]) for r in part]) for part in (train, test))
    carriers = np.array([r["carrier"] for r in test])
    keys = [FoldKey(r["speaker"], sentence_of(r["text"])) for r in train]
    stores = {"text": args.text} | dict(item.split("=", 1) for item in args.audio)
    norm = not args.plain_mean
    x = {name: pooled(path, [r["id"] for r in train], norm) for name, path in stores.items()}
    x_test = {name: pooled(path, [r["id"] for r in test], norm) for name, path in stores.items()}

    fitted = {name: probe(args.c).fit(x[name], y) for name in stores}
    for name in stores:
        report(f"probe: {name}", fitted[name].predict(x_test[name]), y_test, carriers)
    text_oof = cross_fitted(x["text"], y, keys, args.c)
    text_test = fitted["text"].decision_function(x_test["text"])
    for name in list(stores)[1:]:
        voices = probe(args.c).fit(x[name], [r["voice_emotion"] for r in train])
        said = voices.predict(x_test[name])
        truth = np.array([r["voice_emotion"] for r in test])
        print(f"{'  ' + name + ' names the voice emotion':44s} acc {np.mean(said == truth):.3f}")
        both = probe(args.c).fit(np.hstack([x["text"], x[name]]), y)
        joined = both.predict(np.hstack([x_test["text"], x_test[name]]))
        report(f"probe: text + {name} concatenated", joined, y_test, carriers)
        audio_oof = cross_fitted(x[name], y, keys, args.c)
        w, c, (mean, std) = fit_gate(text_oof, audio_oof, x[name], y)
        b = 1.0 / (1.0 + np.exp(-(((x_test[name] - mean) / std) @ w + c)))
        audio_test = fitted[name].decision_function(x_test[name])
        mixed = (1 - b)[:, None] * text_test + b[:, None] * audio_test
        beta = " | beta " + " ".join(f"{k} {b[carriers == k].mean():.2f}" for k in CARRIERS)
        report(f"gated: text, {name} (gate on pooled {name})", mixed.argmax(1), y_test, carriers,
               beta)  # fmt: skip


if __name__ == "__main__":
    main()
