"""Faithfulness of the explanations on real data: deletion AOPC of the attention attribution
against Captum Integrated Gradients and random rankings, and alignment accuracy.

- CMU-MOSI (binary sentiment): MiniLM word sequences + the 73 acoustic functionals, the
  configs/cmu_mosi.yaml recipe with fewer epochs; words are deleted.
- EmoDB (7 emotions, speakers 03 and 08 held out for testing): Whisper tiny.en frames +
  MiniLM words of the (emotion-free) sentence, configs/own_manifest.yaml; audio frames are
  deleted, ranked by the frame attribution (attribution rolled out through the alignment).
- Alignment accuracy: the EmoDB model on the corpus's 10 German sentences synthesised by
  eSpeak NG (exact word spans), several voices: how often a word's most attended frame falls
  inside its spoken span, against chance.

Features are extracted once into --work-dir (resumable), runs are reused when present.

    python benchmarks/explain_faithfulness.py --work-dir runs/explain_bench
    python benchmarks/explain_faithfulness.py --corpora emodb --max-utterances 50
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from hri_emo.data.readers import read_corpus
from hri_emo.encoders import create_audio_encoder, create_text_encoder, extract_features
from hri_emo.explain import alignment_accuracy, explain_corpus, summarize, write_report
from hri_emo.explain.faithfulness import (
    AttentionExplainer,
    ContributionExplainer,
    ErasureExplainer,
    IntegratedGradientsExplainer,
    ModelInputs,
    evaluate_faithfulness,
)
from hri_emo.training.checkpoint import load_checkpoint
from hri_emo.training.config import load_config
from hri_emo.training.datamodule import EmotionDataModule
from hri_emo.training.evaluate import evaluate
from hri_emo.training.train import train

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("HRI_EMO_DATA_DIR", REPO.parent / "shared" / "data"))
EMODB_OPTIONS = {"wav_column": "file", "label_column": "emotion", "test_speakers": ["03", "08"]}
MOSI_OPTIONS = {"label_map": {"0": "negative", "1": "positive"}, "lowercase_text": True}
VOICES = ["de", "de+m3", "de+f2", "de+f4"]
# per corpus: training epochs, test utterances in the deletion test, IG steps (the settings of
# the numbers in docs/explanations.md)
DEFAULTS = {
    "epochs": {"mosi": 10, "emodb": 12},
    "max_utterances": {"mosi": 200, "emodb": 60},
    "ig_steps": {"mosi": 32, "emodb": 16},
}


def setting(args: argparse.Namespace, name: str, corpus: str) -> int:
    value = getattr(args, name)
    return DEFAULTS[name][corpus] if value is None else value


def extract(corpus_path: Path, options: dict, store: Path, modality: str) -> Path:
    corpus = read_corpus(corpus_path, format="manifest", **options)
    encoder = create_text_encoder() if modality == "text" else create_audio_encoder()
    report = extract_features(corpus, encoder, store, batch_size=16, progress=False)
    print(f"  {modality} features: {report.summary()}")
    return store


def train_run(config: str, overrides: list[str], run_dir: Path) -> Path:
    if (run_dir / "checkpoints" / "best" / "model.safetensors").is_file():
        print(f"  reusing {run_dir}")
        return run_dir
    start = time.perf_counter()
    cfg = load_config(REPO / "configs" / config, overrides)
    train(cfg, run_dir)
    print(f"  trained in {time.perf_counter() - start:.0f} s")
    return run_dir


def test_utterances(
    run_dir: Path, limit: int, split: str = "test"
) -> tuple[torch.nn.Module, list[str], list]:
    ckpt = load_checkpoint(run_dir)
    cfg = load_config(ckpt.directory / "experiment.yaml")
    datamodule = EmotionDataModule(cfg.data, standardizers=ckpt.standardizers)
    dataset = datamodule.dataset(split)
    items = [dataset[i] for i in range(min(limit, len(dataset)))]
    datamodule.close()
    return ckpt.model.eval(), ckpt.emotions, [ModelInputs(i.text, i.audio) for i in items]


def faithfulness(run_dir: Path, axis: str, limit: int, steps: int, window: int) -> dict:
    model, emotions, utterances = test_utterances(run_dir, limit)
    start = time.perf_counter()
    explainers = [
        ContributionExplainer(axis),
        AttentionExplainer(axis),
        IntegratedGradientsExplainer(axis, steps=steps),
        ErasureExplainer(axis, window),
        ContributionExplainer(axis, centred=False),
    ]
    result = evaluate_faithfulness(model, utterances, axis, emotions, explainers)
    result["seconds"] = time.perf_counter() - start
    result["erasure_window"] = window
    return result


def choose_window(run_dir: Path, axis: str, limit: int, windows: list[int]) -> int:
    """The erasure window with the highest AOPC on the validation split (never the test's)."""
    model, emotions, utterances = test_utterances(run_dir, limit, "val")
    explainers = [ErasureExplainer(axis, w, f"erasure_w{w}") for w in windows]
    result = evaluate_faithfulness(model, utterances, axis, emotions, explainers)
    scores = {w: result[e.name]["aopc"]["mean"] for w, e in zip(windows, explainers)}
    print(f"  erasure window by validation AOPC ({result['utterances']} utterances): " + ", ".join(
        f"{w}: {a:.3f}" for w, a in scores.items()))  # fmt: skip
    return max(scores, key=scores.get)


def measure(args: argparse.Namespace, run: Path, axis: str, corpus: str) -> dict:
    limit = setting(args, "max_utterances", corpus)
    windows = [int(w) for w in args.erasure_windows.split(",")]
    window = windows[0] if len(windows) == 1 else choose_window(run, axis, limit, windows)
    return faithfulness(run, axis, limit, setting(args, "ig_steps", corpus), window)


KEYS = ("contribution", "attention", "integrated_gradients", "erasure", "contribution_logit",
        "random")  # fmt: skip


def print_faithfulness(name: str, result: dict) -> None:
    print(
        f"\n{name}: deletion AOPC over {result['utterances']} test utterances "
        f"(fractions {result['fractions']}, {result['seconds']:.0f} s)"
    )
    print("| ranking | AOPC (mean ± std) | fall at 10% / 50% deleted |")
    print("|---|---|---|")
    for key in KEYS:
        r = result[key]
        print(
            f"| {key} | {r['aopc']['mean']:.3f} ± {r['aopc']['std']:.3f} | "
            f"{r['curve'][0]:.3f} / {r['curve'][-1]:.3f} |"
        )
    print(f"  erasure: windows of {result['erasure_window']} position(s)")
    ig = np.array(result["integrated_gradients"]["per_utterance"])
    for key in ("contribution", "erasure", "contribution_logit"):
        diff = np.array(result[key]["per_utterance"]) - ig
        print(
            f"  {key} - IG, paired over utterances: {diff.mean():+.4f} ± "
            f"{diff.std(ddof=1) / np.sqrt(len(diff)):.4f} (standard error), "
            f"above IG on {np.mean(diff > 0):.0%}"
        )
    for key in KEYS:
        per = ", ".join(
            f"{e} {s['mean']:.3f}±{s['std']:.3f} (n={s['n']})"
            for e, s in result[key]["per_emotion"].items()
        )
        print(f"  {key} per predicted emotion: {per}")


def synthetic_alignment(run_dir: Path, sentences: list[str]) -> dict:
    """Alignment accuracy of the EmoDB model on its sentences spoken by eSpeak NG voices."""
    from hri_emo.inference import EmotionRecognizer
    from hri_emo.synth import synthesize

    recognizer = EmotionRecognizer.from_pretrained(run_dir)
    explanations, spans = [], []
    for voice in VOICES:
        for sentence in sentences:
            speech = synthesize(sentence, voice=voice).resampled(16000)
            exp = recognizer.classify(speech.wave, sentence)
            if len(exp.words) == len(speech.word_spans):
                explanations.append(exp)
                spans.append(speech.word_spans)
    return alignment_accuracy(explanations, spans) | {"utterances": len(explanations)}


def mosi(args: argparse.Namespace) -> dict:
    print("CMU-MOSI")
    csv = args.data / "cmu_mosi_utterances.csv"
    text = extract(csv, MOSI_OPTIONS, args.work_dir / "mosi_minilm_words.h5", "text")
    run = train_run(
        "cmu_mosi.yaml",
        [
            f"data.corpus={csv}",
            f"data.text_features={text}",
            f"trainer.max_epochs={setting(args, 'epochs', 'mosi')}",
            "train.tensorboard=false",
            "trainer.num_threads=2",
        ],
        args.work_dir / "mosi_run",
    )
    accuracy = evaluate(run, "test", plots=False).metrics["accuracy"]
    print(f"  test accuracy {accuracy:.3f}")
    result = measure(args, run, "words", "mosi")
    print_faithfulness("CMU-MOSI, words", result)
    return {"accuracy": accuracy, "faithfulness": result, "run": run}


def emodb(args: argparse.Namespace) -> dict:
    print("EmoDB")
    manifest = args.data / "emodb" / "emodb_manifest.csv"
    options = {k: v for k, v in EMODB_OPTIONS.items() if k != "test_speakers"}
    audio = extract(manifest, options, args.work_dir / "emodb_whisper.h5", "audio")
    text = extract(manifest, options, args.work_dir / "emodb_minilm.h5", "text")
    reader = '{wav_column: file, label_column: emotion, test_speakers: ["03", "08"]}'
    run = train_run(
        "own_manifest.yaml",
        [
            f"data.corpus={manifest}",
            f"data.reader_options={reader}",
            f"data.text_features={text}",
            f"data.audio_features={audio}",
            f"trainer.max_epochs={setting(args, 'epochs', 'emodb')}",
            "train.tensorboard=false",
            "trainer.num_threads=2",
        ],
        args.work_dir / "emodb_run",
    )
    accuracy = evaluate(run, "test", plots=False).metrics["accuracy"]
    print(f"  test accuracy {accuracy:.3f} (speakers 03, 08 held out)")
    result = measure(args, run, "frames", "emodb")
    print_faithfulness("EmoDB, audio frames", result)
    corpus = read_corpus(manifest, format="manifest", **options)
    sentences = sorted({r.text for r in corpus.records if r.text})
    aligned = synthetic_alignment(run, sentences)
    print(
        f"\nAlignment on {aligned['utterances']} synthesised EmoDB sentences "
        f"({aligned['words']} words): peak inside the spoken span {aligned['accuracy']:.3f}, "
        f"chance {aligned['chance']:.3f}"
    )
    return {"accuracy": accuracy, "faithfulness": result, "alignment": aligned, "run": run}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--work-dir", type=Path, default=REPO / "runs" / "explain_bench")
    parser.add_argument("--corpora", default="mosi,emodb")
    parser.add_argument("--epochs", type=int, default=None, help=f"default {DEFAULTS['epochs']}")
    parser.add_argument(
        "--max-utterances", type=int, default=None, help=f"default {DEFAULTS['max_utterances']}"
    )
    parser.add_argument(
        "--ig-steps", type=int, default=None, help=f"default {DEFAULTS['ig_steps']}"
    )
    parser.add_argument(
        "--erasure-windows",
        default="1",
        help="positions masked together by erasure; several (1,2,4): chosen by validation AOPC",
    )
    parser.add_argument("--report", action="store_true", help="also write an HTML report")
    args = parser.parse_args()
    torch.set_num_threads(2)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in args.corpora.split(","):
        results[name] = {"mosi": mosi, "emodb": emodb}[name](args)
        if args.report:
            exps = explain_corpus(results[name]["run"], "test")
            out = args.work_dir / f"{name}_report"
            print(f"  report: {write_report(exps[:5], out, summary=summarize(exps))}")
    for result in results.values():
        result["run"] = str(result["run"])
    (args.work_dir / f"results_{args.corpora.replace(',', '_')}.json").write_text(
        json.dumps(results, indent=1) + "\n"
    )


if __name__ == "__main__":
    main()
