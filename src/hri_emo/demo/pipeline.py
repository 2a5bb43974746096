"""`hri-emo demo`, step by step: corpus -> features -> train and evaluate -> explain -> summary.

Every step writes into the output folder (the corpus into the cache) and is skipped when its
result is already there, so an interrupted demo resumes and a second run only re-reads results:
the last step (explanations, report) is reused when nothing it reads has changed since, the
corpus, the feature stores, the trained checkpoints and HRI-EMO's own code (`analysis_inputs`).

    summary = run_demo(Path("hri-emo-demo"))
    summary["accuracy"], summary["beta_by_carrier"], summary["report"]
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from importlib import resources
from pathlib import Path
from typing import Any

from hri_emo.demo.corpus import build_corpus
from hri_emo.errors import ConfigError

log = logging.getLogger(__name__)

STAMP = "demo.json"  # marks a folder as a demo folder; holds the summary once finished
MODELS = ("hriemo-v2", "text-only", "audio-only")


def demo_config(manifest: Path, features: dict[str, Path], overrides: list[str] = ()):
    """The packaged demo config with the corpus and its feature stores filled in."""
    from hri_emo.training.config import load_config

    with resources.as_file(resources.files("hri_emo.demo") / "demo.yaml") as path:
        return load_config(
            path,
            [
                f"data.corpus={manifest}",
                f"data.text_features={features['text']}",
                f"data.audio_features={features['audio']}",
                *(
                    [f"data.noisy_audio_features={features['noisy_audio']}"]
                    if "noisy_audio" in features
                    else []
                ),
                *overrides,
            ],
        )


def claim_output(out: Path) -> None:
    """Refuse a non-empty folder that is not a demo folder; mark a new one as ours."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / STAMP).is_file():
        raise ConfigError(
            f"--out {out} is not empty and is not a demo folder (no {STAMP}); "
            "pick a new or empty folder so nothing of yours is overwritten"
        )
    out.mkdir(parents=True, exist_ok=True)
    if not (out / STAMP).is_file():
        (out / STAMP).write_text(json.dumps({"status": "started"}))


def extract_demo_features(manifest: Path, out: Path) -> dict[str, Path]:
    """MiniLM word vectors and Whisper tiny.en frames of every utterance (resumable stores)."""
    from hri_emo.data.readers import read_corpus
    from hri_emo.encoders import create_audio_encoder, create_text_encoder, extract_features
    from hri_emo.inference.asr import WhisperASR, word_timer

    corpus = read_corpus(manifest, format="manifest")
    folder = out.resolve() / "features"  # absolute: the runs work from any folder afterwards
    # text store: MiniLM word vectors + when each word was spoken (Whisper forced alignment)
    stores = {"text": folder / "text-timed.h5", "audio": folder / "audio.h5"}
    stores["text"].parent.mkdir(parents=True, exist_ok=True)
    timers = {"text": word_timer(WhisperASR(threads=1)), "audio": None}
    for modality, create in (("text", create_text_encoder), ("audio", create_audio_encoder)):
        report = extract_features(
            corpus, create(), stores[modality], batch_size=16, word_timer=timers[modality]
        )
        print(f"  {modality} features: {report.summary()}", flush=True)
    stores["noisy_audio"] = noisy_audio_copy(corpus, stores["audio"], folder / "audio-noisy.h5")
    return stores


def noisy_audio_copy(corpus, clean: Path, out: Path) -> Path:
    """A noisy copy of the training recordings' audio features (white or babble at -5..25 dB;
    15 % replaced by noise alone), each item's SNR recorded beside it: what teaches the gate's
    audio reliability (model/reliability.py). Made once; a second run reuses it."""
    from hri_emo.data.store.mixed_source import conditions_path
    from hri_emo.robustness.augment import extract_noisy_copy

    if not conditions_path(out).is_file():
        report = extract_noisy_copy(
            corpus, clean, out, snr_range=(-5.0, 25.0), noise_only=0.15, progress=False
        )
        print(f"  noisy audio copy (training): {report.summary()}", flush=True)
    return out


def run_demo(out: Path, seed: int = 0, overrides: list[str] = ()) -> dict[str, Any]:
    """Run (or resume) every step; returns the summary also written to `out/demo.json`."""
    from hri_emo.encoders.whisper_default import cache_dir
    from hri_emo.training.benchmark import run_benchmark

    out = Path(out)
    claim_output(out)
    started = time.perf_counter()
    print(f"[1/4] corpus (synthetic speech, eSpeak NG, seed {seed})", flush=True)
    manifest = build_corpus(cache_dir() / f"demo-corpus-seed{seed}", seed=seed)
    print(f"  {manifest}", flush=True)
    print("[2/4] features (embedded MiniLM + Whisper tiny.en)", flush=True)
    stores = extract_demo_features(manifest, out)
    print(f"[3/4] training {', '.join(MODELS)} and testing on held-out voices", flush=True)
    cfg = demo_config(manifest, stores, overrides)
    benchmark = run_benchmark(cfg, out / "benchmark", command="hri-emo demo")
    print("[4/4] explanations of test utterances", flush=True)
    from hri_emo.demo.explain import explain_test_split

    inputs = analysis_inputs(manifest, stores, out / "benchmark")
    analysis = finished_analysis(out, inputs)
    if analysis is None:
        analysis = explain_test_split(out / "benchmark", MODELS, manifest, out / "report")
    else:
        print("  nothing changed since the last run: its explanations and report are kept")
    summary = {
        "status": "finished",
        "corpus": str(manifest),
        "accuracy": {m: benchmark["models"][m]["accuracy"]["mean"] for m in MODELS},
        **analysis,
        "inputs": inputs,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / STAMP).write_text(json.dumps(summary, indent=2))
    return summary


OWN_KEYS = ("status", "corpus", "accuracy", "inputs", "seconds")  # the rest is the analysis's


def analysis_inputs(manifest: Path, stores: dict[str, Path], benchmark_dir: Path) -> dict:
    """What the explanation step reads, as (size, modification time) per file, plus a hash of
    HRI-EMO's own source code: when any of it changes, the step runs again."""
    files = [manifest, *stores.values()]
    for model in MODELS:
        run = benchmark_dir / "runs" / model / "seed0"
        files += [run / "run.json", *sorted((run / "checkpoints" / "best").glob("*"))]
    stamps = {str(f): [f.stat().st_size, f.stat().st_mtime_ns] for f in files if f.is_file()}
    package = Path(__file__).resolve().parent.parent
    code = hashlib.sha256()
    for source in sorted(package.rglob("*.py")) + sorted(package.rglob("*.yaml")):
        code.update(str(source.relative_to(package)).encode() + source.read_bytes())
    return {"files": stamps, "code": code.hexdigest()}


def finished_analysis(out: Path, inputs: dict) -> dict[str, Any] | None:
    """The explanation step's results of a finished earlier run with the same `inputs` and its
    report still there, or None."""
    try:
        earlier = json.loads((out / STAMP).read_text())
    except (OSError, ValueError):
        return None
    if earlier.get("status") != "finished" or earlier.get("inputs") != inputs:
        return None
    if not Path(earlier.get("report") or "").is_file():
        return None
    return {key: value for key, value in earlier.items() if key not in OWN_KEYS}
