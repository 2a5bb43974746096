"""`hri-emo robustness RUN ...`: evaluate runs under corruption conditions (table + plot)."""

from __future__ import annotations

import argparse
from pathlib import Path

from hri_emo.cli.extract import add_corpus_arguments, read_corpus_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    register_robustness(subparsers)
    register_extract_noisy(subparsers)


def register_robustness(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "robustness",
        help="metric and beta of trained runs under noisy audio, corrupted text, missing input",
        description=(
            "Evaluates RUN (one or more run/checkpoint folders; several seeds of one model are "
            "averaged) and the --compare runs under each condition, and writes robustness.md, "
            "robustness.json and robustness.png. Waveform conditions re-encode the recordings "
            "through each run's own audio encoder; corpora without recordings get feature noise."
        ),
    )
    parser.add_argument("runs", nargs="+", metavar="RUN")
    parser.add_argument(
        "--compare",
        nargs="+",
        default=[],
        metavar="RUN",
        help="baseline runs trained on the same data",
    )
    parser.add_argument("--split", default="test", help="train, val or test (default: test)")
    parser.add_argument(
        "--conditions",
        default=None,
        help="comma-separated condition names (default: the full set for the corpus; see "
        "docs/robustness.md), e.g. clean,white-10db,word-dropout-30pct,no-audio",
    )
    parser.add_argument("--out", default=None, help="output folder (default: <RUN>/robustness)")
    parser.add_argument("--cache", default=None, help="corrupted stores (default: <out>/cache)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the corruptions")
    parser.set_defaults(func=run_robustness)


def run_robustness(args: argparse.Namespace) -> int:
    from hri_emo.robustness.report import write_robustness_report
    from hri_emo.robustness.runner import evaluate_robustness
    from hri_emo.training.evaluate import HEADLINE

    out = Path(args.out) if args.out else Path(args.runs[0]) / "robustness"
    conditions = [c.strip() for c in args.conditions.split(",")] if args.conditions else None
    results = evaluate_robustness(
        [*args.runs, *args.compare],
        split=args.split,
        conditions=conditions,
        cache_dir=Path(args.cache) if args.cache else out / "cache",
        seed=args.seed,
    )
    task = "singlelabel" if "accuracy" in results[0].metrics else "multilabel"
    metric = HEADLINE[task][0]
    files = write_robustness_report(results, out, metric, f"Robustness on the {args.split} split")
    print(files["markdown"].read_text())
    for name, path in files.items():
        print(f"{name}: {path}")
    return 0


def register_extract_noisy(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extract-noisy",
        help="a noisy copy of an audio feature store (training with waveform noise)",
        description=(
            "Adds white or babble noise at a random SNR to each recording of --split and encodes "
            "it with the encoder of the --like store, into --out (resumable). Train with "
            "data.noisy_audio_features=OUT data.noisy_audio_fraction=0.5."
        ),
    )
    add_corpus_arguments(parser, what="corpus path (manifest CSV/JSONL, IEMOCAP folder, ...)")
    parser.add_argument("--like", required=True, help="the clean audio store (its encoder)")
    parser.add_argument("--out", required=True, help="noisy store to create or resume (.h5)")
    parser.add_argument("--noise", default="white,babble", help="white, babble or both")
    parser.add_argument("--snr", default="0:20", help="SNR range in dB, MIN:MAX (default 0:20)")
    parser.add_argument(
        "--noise-only",
        type=float,
        default=0.0,
        help="share of recordings replaced by white noise alone (default 0)",
    )
    parser.add_argument("--split", default="train", help="split to copy (default: train)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=run_extract_noisy)


def run_extract_noisy(args: argparse.Namespace) -> int:
    from hri_emo.errors import ConfigError
    from hri_emo.robustness.augment import extract_noisy_copy

    try:
        low, high = (float(v) for v in args.snr.split(":"))
    except ValueError:
        raise ConfigError(f"--snr: expected MIN:MAX in dB, got {args.snr!r}") from None
    corpus = read_corpus_arguments(args)
    report = extract_noisy_copy(
        corpus,
        args.like,
        args.out,
        kinds=tuple(k.strip() for k in args.noise.split(",")),
        snr_range=(low, high),
        noise_only=args.noise_only,
        split=args.split,
        seed=args.seed,
        progress=not args.no_progress,
    )
    print(report.summary())
    return 0
