"""EmoDB, 5 folds of 2 held-out speakers: the fusion models against their baselines.

Every model is trained on the same features, folds and seeds (`hri-emo benchmark` per fold, with
`configs/own_manifest.yaml`: speaker-independent validation carved from the 8 training speakers,
early stopping on validation UA). The table is the mean ± std over folds (× seeds) of each
metric on the carved validation split (what a recipe is chosen on) and on the held-out speakers.

    PYTHONPATH=src python benchmarks/emodb_folds.py --tag default
    PYTHONPATH=src python benchmarks/emodb_folds.py --tag pooled --models hriemo-v2 \\
        --extra model.params.pooled_readout=true
    PYTHONPATH=src python benchmarks/emodb_folds.py --tag ens --models hriemo-v2 \\
        --seeds "[0,1,2]" --extra benchmark.ensemble=true    # + each fold's seed ensemble

Features (extracted once into <out>/features): Whisper tiny.en frames with all 5 layers and
MiniLM words. Runs resume: a finished (model, fold, seed) run with the same config is reused.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_SHARED = [p / "shared" / "data" for p in REPO.parents if (p / "shared" / "data").is_dir()]
DATA = Path(os.environ.get("HRI_EMO_DATA_DIR", (_SHARED or [REPO.parent / "shared" / "data"])[0]))
FOLDS = [("03", "08"), ("09", "10"), ("11", "12"), ("13", "14"), ("15", "16")]
MODELS = ["hriemo-v2", "hriemo-v1", "early-fusion", "late-fusion", "audio-only", "text-only"]
METRICS = ["accuracy", "ua", "weighted_f1", "macro_f1"]
READER = ["--option", "wav_column=file", "--option", "label_column=emotion"]


def extract(features: Path) -> tuple[Path, Path]:
    """Whisper all-layer frames and MiniLM words of every EmoDB utterance (skipped when done)."""
    manifest = DATA / "emodb" / "emodb_manifest.csv"
    audio, text = features / "emodb_whisper_all.h5", features / "emodb_minilm.h5"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    for modality, path, extra in (("audio", audio, ["--layer", "all"]), ("text", text, [])):
        command = [sys.executable, "-m", "hri_emo.cli.main", "extract", str(manifest), *READER]
        command += ["--modality", modality, *extra, "--out", str(path), "--no-progress"]
        subprocess.run(command, check=True, env=env)
    return audio, text


def fold_overrides(fold: tuple[str, str], audio: Path, text: Path) -> list[str]:
    speakers = json.dumps(list(fold))
    options = f"{{wav_column: file, label_column: emotion, test_speakers: {speakers}}}"
    return [
        f"data.corpus={DATA / 'emodb' / 'emodb_manifest.csv'}",
        f"data.reader_options={options}",
        f"data.text_features={text}",
        f"data.audio_features={audio}",
        "data.max_audio_len=100",
        "trainer.num_threads=1",
        "trainer.enable_progress_bar=false",
    ]


def run_folds(args: argparse.Namespace, audio: Path, text: Path) -> dict[str, dict]:
    """Per split (val, test), per model: every fold's (× seed's) metrics.

    Runs are selected (early stopping) and summarised on the carved validation split; the same
    trained runs are then evaluated once on the held-out speakers (cached in `test.json`).
    """
    from hri_emo.training.benchmark import run_benchmark
    from hri_emo.training.config import load_config
    from hri_emo.training.evaluate import evaluate

    def empty() -> dict:
        return {m: {k: [] for k in [*METRICS, "beta_mean"]} for m in args.models}

    results = {"val": empty(), "test": empty(), "refit": empty()}
    for fold in [f for f in FOLDS if "".join(f) in args.folds]:
        overrides = fold_overrides(fold, audio, text) + args.extra
        overrides += [f"benchmark.models=[{','.join(args.models)}]"]
        overrides += [f"benchmark.seeds={args.seeds}", "benchmark.split=val"]
        cfg = load_config(REPO / "configs" / "own_manifest.yaml", overrides)
        started = time.perf_counter()
        out = args.out / args.tag / f"fold{''.join(fold)}"
        summary = run_benchmark(cfg, out, command=" ".join(overrides))
        for model, runs in summary["runs"].items():
            for run in runs:
                run_dir = out / "runs" / model / f"seed{run['seed']}"
                cached = run_dir / "test.json"
                if not cached.is_file():
                    metrics = evaluate(run_dir, "test", plots=False).metrics
                    cached.write_text(json.dumps(metrics))
                rows = [("val", run["metrics"]), ("test", json.loads(cached.read_text()))]
                if args.refit:
                    rows.append(("refit", refit(cfg, out, model, run["seed"])))
                for split, metrics in rows:
                    for key in METRICS:
                        results[split][model][key].append(metrics[key])
                    results[split][model]["beta_mean"].append(metrics.get("beta_mean"))
        for model, ensemble in summary.get(
            "ensembles", {}
        ).items():  # --extra benchmark.ensemble=true
            name = f"{model} (ensemble of {len(ensemble['seeds'])} seeds)"
            test = evaluate(ensemble["run_dir"], "test", plots=False).metrics
            for split, metrics in (("val", ensemble["metrics"]), ("test", test)):
                row = results[split].setdefault(name, {k: [] for k in [*METRICS, "beta_mean"]})
                for key in METRICS:
                    row[key].append(metrics[key])
                row["beta_mean"].append(metrics.get("beta_mean"))
        for name, metrics in probe_metrics(cfg, audio).items():
            split = "refit" if name.endswith("8 speakers") else "test"
            row = results[split].setdefault(name, {k: [] for k in [*METRICS, "beta_mean"]})
            for key in METRICS:
                row[key].append(metrics[key])
        print(f"fold {'+'.join(fold)}: {time.perf_counter() - started:.0f} s", flush=True)
    return results


def refit(cfg, fold_dir: Path, model: str, seed: int) -> dict[str, float]:
    """Train `model` again on training + validation speakers for the epochs its validated run
    chose (best epoch + 1), with the recipe `select` chose for it, without early stopping, and
    return the last checkpoint's test metrics (cached in `refit/<model>/seed<k>/test.json`)."""
    from hri_emo.training.benchmark import run_config
    from hri_emo.training.checkpoint import LAST, checkpoint_dir
    from hri_emo.training.evaluate import evaluate
    from hri_emo.training.recipe_select import candidate_config
    from hri_emo.training.train import train

    run_dir = fold_dir / "refit" / model / f"seed{seed}"
    cached = run_dir / "test.json"
    if cached.is_file():
        return json.loads(cached.read_text())
    chosen = checkpoint_dir(fold_dir / "runs" / model / f"seed{seed}") / "metrics.json"
    epochs = json.loads(chosen.read_text())["best_epoch"] + 1
    refit_cfg = run_config(cfg, model, seed)
    selection = fold_dir / "runs" / model / f"seed{seed}" / "selection.json"
    if selection.is_file():  # `select` chose a recipe on validation: refit that one
        refit_cfg = candidate_config(refit_cfg, json.loads(selection.read_text())["chosen"])
    refit_cfg.data.validation.fraction = 0.0  # the validation speaker trains too
    refit_cfg.data.val_split = "train"  # logged only: nothing is selected on it
    refit_cfg.train.patience = 0
    refit_cfg.trainer.max_epochs = epochs
    train(refit_cfg, run_dir=run_dir)
    metrics = evaluate(checkpoint_dir(run_dir, LAST), "test", plots=False).metrics
    metrics["epochs"] = epochs
    cached.write_text(json.dumps(metrics))
    return metrics


def probe_metrics(cfg, audio: Path) -> dict[str, dict[str, float]]:
    """The linear probe of the same audio features on the same split: StandardScaler +
    LogisticRegression (C = 1) on mean-pooled all-layer Whisper frames, trained on the run's
    training speakers ("7 speakers") and on training + validation speakers ("8 speakers", as
    benchmarks/emodb_probe.py), evaluated on the held-out speakers."""
    import numpy as np
    from emodb_probe import make_probe
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    from hri_emo.data.store.feature_store import FeatureStore
    from hri_emo.training.datamodule import EmotionDataModule

    datamodule = EmotionDataModule(cfg.data, seed=cfg.train.seed)
    datamodule.setup("fit")
    with FeatureStore.open(audio) as store:

        def xy(records) -> tuple:
            x = np.stack([store.read(r.id).features.mean(axis=0) for r in records])
            return x, np.array([r.label for r in records])

        train, val, test = (xy(datamodule.records[k]) for k in ("train", "val", "test"))
    datamodule.close()
    results = {}
    for name, (x, y) in (
        ("linear probe, 7 speakers", train),
        (
            "linear probe, 8 speakers",
            (np.vstack([train[0], val[0]]), np.hstack([train[1], val[1]])),
        ),
    ):
        predicted = make_probe().fit(x, y).predict(test[0])
        results[name] = {
            "accuracy": accuracy_score(test[1], predicted),
            "ua": balanced_accuracy_score(test[1], predicted),
            "weighted_f1": f1_score(test[1], predicted, average="weighted"),
            "macro_f1": f1_score(test[1], predicted, average="macro"),
        }
    return results


def table(per_model: dict[str, dict], title: str) -> str:
    import numpy as np

    def cell(values: list) -> str:
        values = [v for v in values if v is not None]
        if not values:
            return "–"
        std = np.std(values, ddof=1) if len(values) > 1 else 0.0
        return f"{np.mean(values):.3f} ± {std:.3f}"

    lines = [title, "", "| model | accuracy | UA | weighted F1 | macro F1 | n |", "|---" * 6 + "|"]
    for model, values in per_model.items():
        cells = " | ".join(cell(values[k]) for k in METRICS)
        lines.append(f"| `{model}` | {cells} | {len(values['accuracy'])} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--seeds", default="[0]", help="per fold, as a YAML list")
    parser.add_argument("--folds", default=",".join("".join(f) for f in FOLDS))
    parser.add_argument("--tag", default="default", help="output sub-folder of this recipe")
    parser.add_argument("--out", type=Path, default=Path("runs/emodb_folds"))
    parser.add_argument("--extra", action="append", default=[], help="config override")
    parser.add_argument(
        "--refit",
        action="store_true",
        help="also train each model on training + validation speakers for the epochs its "
        "validated run chose, and report those on the held-out speakers",
    )
    args = parser.parse_args()
    args.models = args.models.split(",")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    features = args.out / "features"
    features.mkdir(parents=True, exist_ok=True)
    audio, text = extract(features)
    results = run_folds(args, audio, text)
    report = "\n".join(
        table(results[split], f"EmoDB `{args.tag}` ({args.extra}), {split} split")
        for split in ("val", "test", "refit")
        if any(v["accuracy"] for v in results[split].values())
    )
    (args.out / args.tag / "folds.md").write_text(report)
    (args.out / args.tag / "folds.json").write_text(json.dumps(results, indent=2))
    print(report)


if __name__ == "__main__":
    main()
