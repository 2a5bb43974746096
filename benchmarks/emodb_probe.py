"""Real-data check of the audio encoders: speaker-independent emotion probe on EmoDB.

Extracts mean-pooled features of all 535 EmoDB utterances through the real extraction path
(`extract_features` into a FeatureStore, resumable), then trains a StandardScaler +
LogisticRegression on 8 speakers and tests on the 2 held out, for 5 folds covering all 10.

    .venv/bin/python benchmarks/emodb_probe.py --encoder whisper-tiny-en
    .venv/bin/python benchmarks/emodb_probe.py --encoder egemaps   # needs hri-emo[egemaps]
    .venv/bin/python benchmarks/emodb_probe.py --encoder whisper-tiny-en --layer all \
        --beside egemaps   # the two concatenated

Reference points (../shared/data/README.md): pooled Whisper tiny.en ~0.85, eGeMAPS ~0.65.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from hri_emo.data.readers import read_corpus
from hri_emo.data.records import Corpus
from hri_emo.data.store.feature_store import FeatureStore
from hri_emo.encoders import create_audio_encoder, extract_features

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "emodb"
FOLDS = [("03", "08"), ("09", "10"), ("11", "12"), ("13", "14"), ("15", "16")]


def emodb_corpus(data_dir: Path) -> Corpus:
    """EmoDB through the manifest reader: id = wav file stem, label = the emotion column."""
    manifest = data_dir / "emodb_manifest.csv"
    return read_corpus(manifest, format="manifest", wav_column="file", label_column="emotion")


def pooled_features(corpus: Corpus, store_path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N, D) features, (N,) labels, (N,) speakers of every record present in the store."""
    with FeatureStore.open(store_path) as store:
        kept = [r for r in corpus.records if r.id in store]
        features = np.stack([store.read(r.id).features for r in kept])
    return features, np.array([r.label for r in kept]), np.array([r.speaker for r in kept])


def make_probe():
    """The linear probe every EmoDB comparison uses: StandardScaler + LogisticRegression (C=1)."""
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=1.0))


def speaker_folds(x: np.ndarray, y: np.ndarray, speakers: np.ndarray) -> list[dict]:
    results = []
    for held_out in FOLDS:
        test = np.isin(speakers, held_out)
        probe = make_probe()
        probe.fit(x[~test], y[~test])
        predicted = probe.predict(x[test])
        results.append(
            {
                "speakers": "+".join(held_out),
                "n": int(test.sum()),
                "accuracy": accuracy_score(y[test], predicted),
                "unweighted_recall": balanced_accuracy_score(y[test], predicted),
            }
        )
    return results


def per_layer_report(x: np.ndarray, y: np.ndarray, speakers: np.ndarray, num_layers: int) -> None:
    """Accuracy of each layer alone, from a layer="all" store ((L+1)*D pooled columns)."""
    for layer, columns in enumerate(np.split(x, num_layers, axis=1)):
        accuracy = np.array([f["accuracy"] for f in speaker_folds(columns, y, speakers)])
        print(f"  layer {layer} alone: accuracy {accuracy.mean():.3f} ± {accuracy.std():.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--encoder", default="whisper-tiny-en")
    parser.add_argument("--layer", default="last")
    parser.add_argument("--pad-to-30s", action="store_true", help="Whisper: 30 s windows")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--work-dir", type=Path, default=REPO_ROOT / "runs" / "emodb_probe")
    parser.add_argument(
        "--beside", help="a second encoder (its last layer) whose features are concatenated"
    )
    args = parser.parse_args()

    corpus = emodb_corpus(args.data)
    options = {"pad_to_30s": True} if args.pad_to_30s else {}
    encoder = create_audio_encoder(args.encoder, layer=args.layer, pooling="mean", **options)
    suffix = "_30s" if args.pad_to_30s else ""
    store_path = args.work_dir / f"emodb_{args.encoder}_layer-{args.layer}{suffix}.h5"
    args.work_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    report = extract_features(
        corpus, encoder, store_path, batch_size=args.batch_size, on_error="skip"
    )
    print(f"extraction: {report.summary()}")
    x, y, speakers = pooled_features(corpus, store_path)
    if args.beside:
        second = create_audio_encoder(args.beside, layer="last", pooling="mean")
        beside_path = args.work_dir / f"emodb_{args.beside}_layer-last.h5"
        extract_features(corpus, second, beside_path, batch_size=args.batch_size, on_error="skip")
        x_beside, y_beside, _ = pooled_features(corpus, beside_path)
        if list(y_beside) != list(y):
            raise SystemExit(f"{beside_path} does not hold the same utterances as {store_path}")
        x = np.hstack([x, x_beside])
    folds = speaker_folds(x, y, speakers)
    for fold in folds:
        print(
            f"  held out {fold['speakers']}: n={fold['n']:3d}  accuracy {fold['accuracy']:.3f}"
            f"  UA {fold['unweighted_recall']:.3f}"
        )
    accuracy = np.array([f["accuracy"] for f in folds])
    recall = np.array([f["unweighted_recall"] for f in folds])
    if args.layer == "all" and not args.beside:
        per_layer_report(x, y, speakers, encoder.num_layers)
    print(
        f"{args.encoder} layer={args.layer}{suffix}"
        f"{' + ' + args.beside if args.beside else ''} (dim {x.shape[1]}, {len(y)} utterances): "
        f"accuracy {accuracy.mean():.3f} ± {accuracy.std():.3f}, "
        f"UA {recall.mean():.3f} ± {recall.std():.3f} over 5 speaker folds "
        f"({time.perf_counter() - start:.0f} s in all)"
    )


if __name__ == "__main__":
    main()
