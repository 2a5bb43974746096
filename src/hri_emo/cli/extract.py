"""`hri-emo extract`: encode a corpus's transcripts or recordings into a feature store.

    hri-emo extract data/manifest.csv --modality audio --encoder whisper-tiny-en \\
        --out features/audio_whisper.h5 --on-error skip

Under `torchrun --nproc-per-node N -m hri_emo.cli extract ...` the ranks share the corpus and
rank 0 merges their shards into the one store (`hri_emo.distributed.extract`).
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extract",
        help="encode a corpus (text or audio) into an HDF5 feature store (resumable)",
        description="Encode every utterance's transcript or recording into a feature store. "
        "Rerunning with the same --out resumes: utterances already stored are skipped.",
    )
    add_corpus_arguments(parser)
    parser.add_argument("--modality", choices=("text", "audio"), required=True)
    parser.add_argument(
        "--encoder",
        default=None,
        help="minilm | whisper-tiny-en[-hf|-ct2] | logmel | egemaps | HF model id or folder "
        "(default: minilm for text, whisper-tiny-en for audio)",
    )
    parser.add_argument("--layer", default="last", help="'last', 'all' or an integer index")
    parser.add_argument("--pooling", choices=("none", "mean", "cls"), default="none")
    parser.add_argument("--out", required=True, help="feature store to create or resume (.h5)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--on-error", choices=("fail", "skip"), default="fail")
    parser.add_argument(
        "--commit-every",
        type=int,
        default=256,
        help="utterances per durable commit: a killed run loses at most these (or 5 s of work)",
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N utterances")
    parser.add_argument(
        "--device",
        default=None,
        help="cpu, cuda, cuda:N or auto (default: cpu; under torchrun cuda:LOCAL_RANK when "
        "CUDA is available)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run_extract)


def add_corpus_arguments(
    parser: argparse.ArgumentParser,
    name: str = "corpus",
    what: str = "corpus path (manifest CSV/JSONL, .csd folder, ...)",
) -> None:
    """The corpus positional, --format and --option (the reader's options), as every corpus
    command takes them; `read_corpus_arguments` reads them back."""
    parser.add_argument(name, help=what)
    parser.add_argument("--format", default=None, help="corpus format (auto-detected if omitted)")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="reader option, repeatable (value parsed as JSON when possible)",
    )


def read_corpus_arguments(args: argparse.Namespace, name: str = "corpus") -> Any:
    """The Corpus named by `add_corpus_arguments`' arguments."""
    from hri_emo.data.readers import read_corpus

    return read_corpus(getattr(args, name), format=args.format, **parse_options(args.option))


def parse_options(pairs: list[str]) -> dict[str, object]:
    """["key=value", ...] -> {key: value}, values decoded as JSON when they are valid JSON."""
    from hri_emo.errors import ConfigError

    options: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--option expects KEY=VALUE, got {pair!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def run_extract(args: argparse.Namespace) -> int:
    from hri_emo.distributed import DistContext
    from hri_emo.encoders import extract_features

    ctx = DistContext.from_env()
    if ctx.distributed:
        return run_sharded(args, ctx)
    corpus, encoder = _corpus_and_encoder(args, ctx)
    report = extract_features(corpus, encoder, args.out, **_extract_options(args))
    _print_report(report)
    return 0


def run_sharded(args: argparse.Namespace, ctx) -> int:
    """One rank of `torchrun ... -m hri_emo.cli extract`: rank 0 prints the summary, and the
    error that every rank raises alike (the others exit 2 quietly)."""
    from hri_emo.distributed.extract import extract_sharded

    def work():
        corpus, encoder = _corpus_and_encoder(args, ctx)
        return extract_sharded(corpus, encoder, args.out, ctx, **_extract_options(args))

    done, report = ctx.run(work)
    if not done:
        return 2
    if ctx.is_main:
        _print_report(report, f" [{ctx.world_size} workers]")
    return 0


def _extract_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options `extract_features` and `extract_sharded` take alike, from the command line."""
    return {
        "batch_size": args.batch_size,
        "on_error": args.on_error,
        "limit": args.limit,
        "progress": not args.no_progress,
        "commit_every": args.commit_every,
    }


def _corpus_and_encoder(args: argparse.Namespace, ctx):
    from hri_emo.distributed import resolve_device
    from hri_emo.encoders import DEFAULT_ENCODERS, create_audio_encoder, create_text_encoder

    corpus = read_corpus_arguments(args)
    name = args.encoder or DEFAULT_ENCODERS[args.modality]
    create = create_text_encoder if args.modality == "text" else create_audio_encoder
    encoder = create(
        name,
        layer=args.layer,
        pooling=args.pooling,
        batch_size=args.batch_size,
        device=resolve_device(args.device, ctx),
    )
    return corpus, encoder


def _print_report(report, suffix: str = "") -> None:
    print(report.summary() + suffix)
    if report.report_path is not None:
        print(f"skip report: {report.report_path}")
