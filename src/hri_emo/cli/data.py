"""`hri-emo data`: look at a corpus before extracting or training.

    hri-emo data inspect ../shared/data/cmu_mosi_utterances.csv \\
        --option 'label_map={"0": "negative", "1": "positive"}'
    hri-emo data inspect IEMOCAP_full_release --option classes=6 --json
    hri-emo data validate emodb_manifest.csv --option wav_column=file --option label_column=emotion
    hri-emo data inspect features/audio_whisper.h5     # a feature store: encoder, dims, lengths
"""

from __future__ import annotations

import argparse
import json

from hri_emo.cli.extract import add_corpus_arguments, read_corpus_arguments

CORPUS_HELP = "corpus path (manifest CSV/JSONL, .csd folder, .pkl, IEMOCAP)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data", help="inspect or validate a corpus", description="Inspect or validate a corpus."
    )
    commands = parser.add_subparsers(dest="data_command", required=True)

    inspect = commands.add_parser(
        "inspect",
        help="counts per split and label, text/audio lengths, feature dims, missing modalities",
    )
    add_corpus_arguments(inspect, "path", CORPUS_HELP)
    inspect.add_argument("--json", action="store_true", help="print the summary as JSON")
    inspect.add_argument("--no-audio", action="store_true", help="skip reading wav headers")
    inspect.add_argument(
        "--no-values",
        action="store_true",
        help="feature store: skip reading every utterance's values (NaN/Inf check)",
    )
    inspect.set_defaults(func=run_inspect)

    validate = commands.add_parser(
        "validate", help="check files, features and labels; exit 1 when problems are found"
    )
    add_corpus_arguments(validate, "path", CORPUS_HELP)
    validate.add_argument("--no-files", action="store_true", help="do not check wav files exist")
    validate.set_defaults(func=run_validate)


def _read(args: argparse.Namespace):
    return read_corpus_arguments(args, "path")


def _is_store(args: argparse.Namespace) -> bool:
    from hri_emo.data.store.inspect_store import is_feature_store

    return args.format is None and is_feature_store(args.path)


def run_inspect(args: argparse.Namespace) -> int:
    from hri_emo.data.corpus_summary import summarize_corpus
    from hri_emo.data.store.inspect_store import summarize_store

    if _is_store(args):
        summary = summarize_store(args.path, check_values=not args.no_values)
    else:
        summary = summarize_corpus(_read(args), audio_stats=not args.no_audio)
    print(json.dumps(summary.to_dict(), indent=2) if args.json else summary.format())
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from hri_emo.data.store.inspect_store import summarize_store
    from hri_emo.data.validation import validate_corpus

    if _is_store(args):
        store = summarize_store(args.path)
        for bad in store.bad_items:
            print(f"{args.path}: utterance {bad['id']!r}: {bad['reason']}")
        print(f"{args.path}: {store.utterances} utterances, {len(store.bad_items)} problem(s)")
        return 1 if store.bad_items else 0
    corpus = _read(args)
    problems = validate_corpus(corpus, check_files=not args.no_files, strict=False)
    for problem in problems:
        print(problem)
    print(f"{corpus.name}: {len(corpus.records)} utterances, {len(problems)} problem(s)")
    return 1 if problems else 0
