"""Robustness benchmark: EmoDB (waveform noise) and CMU-MOSI (feature noise, text corruption).

For each corpus: extract the feature stores (resumable), train every model × seed with
`run_benchmark` (small models: hidden 64, few epochs, early stopping; finished runs are reused),
train `hriemo-v2` with training-time corruption, evaluate all runs under every condition with
the robustness runner (one shared cache of corrupted stores), and write the robustness table,
plot and an expectations summary into `<out>/<corpus>/`.

    PYTHONPATH=src python benchmarks/robustness_bench.py --corpus mosi
    PYTHONPATH=src python benchmarks/robustness_bench.py --corpus emodb --epochs 40 --patience 8
    PYTHONPATH=src python benchmarks/robustness_bench.py --corpus emodb --only whisper-asr

Finished runs are reused (same config), features and corrupted stores are cached. Paths
default to the shared data folder ($HRI_EMO_DATA_DIR) and /tmp/robustness_bench (features, runs,
reports). The measured tables are in docs/benchmarks.md ("Robustness").
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_SHARED = [p / "shared" / "data" for p in REPO.parents if (p / "shared" / "data").is_dir()]
DATA = Path(os.environ.get("HRI_EMO_DATA_DIR", (_SHARED or [REPO.parent / "shared" / "data"])[0]))
MODELS = ["hriemo-v2", "hriemo-v1", "early-fusion", "late-fusion", "text-only", "audio-only"]
SNRS = (20, 10, 0)
TEXT_CONDITIONS = ["word-dropout-10pct", "word-dropout-30pct", "word-dropout-50pct"]
TEXT_CONDITIONS += ["asr-like-20pct"]
WAVE_CONDITIONS = [f"{k}-{s}db" for k in ("white", "babble") for s in SNRS]
WAVE_CONDITIONS += ["telephone", "clip-20pct", "gain--20db"]
CORRUPTION = [
    "train.corruption.fraction=0.3",
    "train.corruption.audio_noise_snr=[0,20]",
    "train.corruption.word_dropout=[0.1,0.5]",
]
BETA_FALL = 0.01  # "beta falls": never rises from clean to 0 dB, and drops by at least this
SMALL = ["model.params.hidden_dim=64", "trainer.num_threads=1", "trainer.enable_progress_bar=false"]


def cli(*args: str) -> None:
    """Run `hri-emo ARGS` from this checkout (not with --report-only: nothing to extract)."""
    if "--report-only" in sys.argv:
        return
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    command = [sys.executable, "-m", "hri_emo.cli.main", *args]
    print("$ hri-emo " + " ".join(args), flush=True)
    subprocess.run(command, check=True, env=env)


def emodb(features: Path, test_speakers: list[str], epochs: int, patience: int) -> dict:
    """EmoDB: Whisper tiny.en frames + MiniLM words, `test_speakers` held out."""
    manifest = DATA / "emodb" / "emodb_manifest.csv"
    reader = ["--option", "wav_column=file", "--option", "label_column=emotion"]
    audio, text = features / "emodb_whisper.h5", features / "emodb_minilm.h5"
    noisy = features / f"emodb_whisper_noisy_{''.join(test_speakers)}.h5"
    cli(
        "extract",
        str(manifest),
        *reader,
        "--modality",
        "audio",
        "--out",
        str(audio),
        "--no-progress",
    )
    cli(
        "extract", str(manifest), *reader, "--modality", "text", "--out", str(text), "--no-progress"
    )
    speakers = json.dumps(test_speakers)
    cli(
        "extract-noisy", str(manifest), *reader, "--option", f"test_speakers={speakers}",
        "--like", str(audio), "--out", str(noisy), "--split", "train", "--no-progress",
    )  # fmt: skip
    options = f"{{wav_column: file, label_column: emotion, test_speakers: {speakers}}}"
    overrides = [
        f"data.corpus={manifest}",
        f"data.reader_options={options}",
        f"data.text_features={text}",
        f"data.audio_features={audio}",
        "data.max_audio_len=100",
        f"trainer.max_epochs={epochs}",
        f"train.patience={patience}",
    ]
    noisy_data = [f"data.noisy_audio_features={noisy}", "data.noisy_audio_fraction=0.5"]
    return {
        "config": REPO / "configs" / "own_manifest.yaml",
        "overrides": overrides,
        "corruption": CORRUPTION + noisy_data,
        "conditions": ["clean", *WAVE_CONDITIONS, *TEXT_CONDITIONS, "no-audio", "no-text"],
        "noise": [(kind, [f"{kind}-{s}db" for s in SNRS]) for kind in ("white", "babble")],
    }


def mosi(features: Path, epochs: int, patience: int) -> dict:
    """CMU-MOSI: MiniLM words + the 73 openSMILE functionals (feature noise only)."""
    csv = DATA / "cmu_mosi_utterances.csv"
    text = features / "cmu_mosi_minilm_words.h5"
    cli(
        "extract", str(csv), "--modality", "text", "--encoder", "minilm",
        "--option", 'label_map={"0":"negative","1":"positive"}',
        "--option", "lowercase_text=true", "--out", str(text), "--no-progress",
    )  # fmt: skip
    feature_noise = [f"feature-noise-{s}db" for s in SNRS]
    return {
        "config": REPO / "configs" / "cmu_mosi.yaml",
        "overrides": [
            f"data.corpus={csv}",
            f"data.text_features={text}",
            f"trainer.max_epochs={epochs}",
            f"train.patience={patience}",
        ],
        "corruption": CORRUPTION,
        "conditions": ["clean", *feature_noise, *TEXT_CONDITIONS, "no-audio", "no-text"],
        "noise": [("feature", feature_noise)],
    }


def train_all(setup: dict, out: Path, models: list[str], seeds: list[int]) -> list[Path]:
    """Train (or reuse) every model × seed, and hriemo-v2 with training-time corruption."""
    from hri_emo.training.benchmark import run_benchmark
    from hri_emo.training.config import load_config

    runs = []
    for name, extra, chosen in (
        ("baselines", [], models),
        ("corruption", setup["corruption"], ["hriemo-v2"]),
    ):
        overrides = [*setup["overrides"], *SMALL, *setup["extra"], *extra]
        overrides += [f"benchmark.models=[{','.join(chosen)}]", f"benchmark.seeds={seeds}"]
        cfg = load_config(setup["config"], overrides)
        started = time.perf_counter()
        run_benchmark(cfg, out / name, command=" ".join(overrides))
        print(f"{name}: trained in {time.perf_counter() - started:.0f} s", flush=True)
        runs += [out / name / "runs" / m / f"seed{s}" for m in chosen for s in seeds]
    return runs


def expectations(table: dict, setup: dict) -> str:
    """The three expectations of issue 11, checked on the aggregated table."""

    def get(condition: str, model: str, key: str = "metric"):
        return table.get(condition, {}).get(model, {}).get(key)

    lines = ["", "## Expectations", ""]
    for model in ("hriemo-v2", "hriemo-v2 +corruption", "hriemo-v1", "late-fusion"):
        for kind, names in setup["noise"]:
            betas = [get(c, model, "beta") for c in ["clean", *names]]
            if any(b is None for b in betas):
                continue
            steps = all(a >= b for a, b in itertools.pairwise(betas))
            falls = steps and betas[0] - betas[-1] >= BETA_FALL
            shown = " → ".join(f"{b:.3f}" for b in betas)
            lines.append(f"- {model} beta, {kind} clean→20→10→0 dB: {shown} (falls: {falls})")
    for _kind, names in setup["noise"]:
        zero = names[-1]
        for model in ("hriemo-v2", "hriemo-v2 +corruption", "early-fusion"):
            clean, noisy = get("clean", model), get(zero, model)
            if clean is not None and noisy is not None:
                lines.append(
                    f"- {model} {zero}: {clean:.3f} → {noisy:.3f} (drop {clean - noisy:.3f})"
                )
    for missing, baseline in (("no-audio", "text-only"), ("no-text", "audio-only")):
        for model in ("hriemo-v2", "hriemo-v2 +corruption"):
            value, base = get(missing, model), get("clean", baseline)
            if value is not None and base is not None:
                verdict = "≥" if value >= base else "<"
                lines.append(f"- {model} {missing}: {value:.3f} {verdict} {baseline} {base:.3f}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=["emodb", "mosi"], required=True)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=15, help="max epochs (EmoDB: 40)")
    parser.add_argument("--patience", type=int, default=5, help="early stopping (EmoDB: 8)")
    parser.add_argument("--test-speakers", default="03,08", help="EmoDB held-out speakers")
    parser.add_argument(
        "--report-only", action="store_true", help="tables again from <out>/report/*.json"
    )
    parser.add_argument("--out", type=Path, default=Path("/tmp/robustness_bench"))
    parser.add_argument("--features", type=Path, default=None, help="default: <out>/features")
    parser.add_argument("--extra", action="append", default=[], help="config override, repeatable")
    parser.add_argument(
        "--only",
        default=None,
        help="evaluate these conditions on the trained runs, keep the saved rest",
    )
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    from hri_emo.robustness.report import aggregate, write_robustness_report
    from hri_emo.robustness.runner import ConditionResult, evaluate_robustness

    features = args.features or args.out / "features"
    features.mkdir(parents=True, exist_ok=True)
    if args.corpus == "emodb":
        setup = emodb(features, args.test_speakers.split(","), args.epochs, args.patience)
    else:
        setup = mosi(features, args.epochs, args.patience)
    setup["extra"] = args.extra
    if args.corpus == "emodb" and importlib.util.find_spec("hri_emo.inference.asr"):
        setup["conditions"].insert(-2, "whisper-asr")  # real ASR, where this install has it
    out = args.out / args.corpus
    seeds = [int(s) for s in args.seeds.split(",")]
    saved = out / "report" / "robustness.json"
    if args.report_only:
        results = [ConditionResult(**row) for row in json.loads(saved.read_text())["runs"]]
    else:
        models = args.models.split(",")
        if args.only:  # the runs trained before, as they are
            runs = [out / "baselines" / "runs" / m / f"seed{k}" for m in models for k in seeds]
            runs += [out / "corruption" / "runs" / "hriemo-v2" / f"seed{k}" for k in seeds]
        else:
            runs = train_all(setup, out, models, seeds)
        started = time.perf_counter()
        chosen = args.only.split(",") if args.only else setup["conditions"]
        results = evaluate_robustness(
            runs, split="test", conditions=chosen, cache_dir=out / "cache"
        )
        if args.only:  # the other conditions as saved, in the usual order
            kept = [ConditionResult(**r) for r in json.loads(saved.read_text())["runs"]]
            rows = [r for r in kept if r.condition not in chosen] + results
            order = {c: i for i, c in enumerate(setup["conditions"])}
            results = sorted(rows, key=lambda r: order.get(r.condition, len(order)))
        print(f"robustness: evaluated in {time.perf_counter() - started:.0f} s", flush=True)
    title = f"Robustness, {args.corpus}, test split"
    files = write_robustness_report(results, out / "report", "accuracy", title)
    summary = expectations(aggregate(results), setup)
    with files["markdown"].open("a") as handle:
        handle.write(summary)
    print(files["markdown"].read_text())


if __name__ == "__main__":
    main()
