"""`hri-emo explain`: figures, JSON maps and one HTML report for a recording/transcript or for
stored corpus utterances (with `--summary`, a corpus-level analysis)."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_LIMIT = 10


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="explanation figures and an HTML report for new input or corpus utterances",
        description=(
            "New input: hri-emo explain MODEL --audio x.wav --text '...'. Corpus utterances: "
            "hri-emo explain RUN --split test --ids ID [ID ...] | --limit N [--summary]. Writes "
            "PNG figures, explanations.json (the raw maps) and report.html (self-contained, "
            "opens offline) into --out."
        ),
    )
    parser.add_argument("model", metavar="MODEL_OR_RUN", help="run, checkpoint or model folder")
    parser.add_argument("--audio", default=None, help="a recording (any rate/channels)")
    parser.add_argument("--text", default=None, help="its transcript")
    parser.add_argument("--split", default="test", help="corpus split (default: test)")
    parser.add_argument("--ids", nargs="+", default=None, metavar="ID", help="utterance ids")
    parser.add_argument(
        "--limit", type=int, default=None, help=f"first N utterances (default {DEFAULT_LIMIT})"
    )
    parser.add_argument(
        "--summary",
        action="store_true",
        help="corpus-level analysis over the whole split (or the --ids/--limit selection)",
    )
    parser.add_argument(
        "--show",
        type=int,
        default=DEFAULT_LIMIT,
        help="with --summary: utterances drawn one by one in the report (default %(default)s)",
    )
    parser.add_argument(
        "--group-by",
        default="speaker",
        help="comma-separated record columns to compare beta across (default: speaker)",
    )
    parser.add_argument(
        "--attribution",
        choices=["attention", "integrated-gradients", "erasure"],
        default="attention",
        help="maps drawn per utterance: the model's own maps (default), Captum's Integrated "
        "Gradients (slower), or word erasure (each word's effect on the logits when removed "
        "from the transcript; docs/explanations.md). Summaries use the model's own maps.",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output folder (default: RUN/explanations/SPLIT; ./explanations for new input)",
    )
    parser.add_argument("--title", default=None, help="report title")
    parser.set_defaults(func=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    from hri_emo.errors import ConfigError
    from hri_emo.explain.report import write_report

    new_input = args.audio is not None or args.text is not None
    if new_input and (args.ids or args.limit or args.summary):
        raise ConfigError("give --audio/--text (new input) or --ids/--limit/--summary, not both")
    if new_input:
        explanations, summary = _explain_new(args), None
        out = Path(args.out or "explanations")
        title = args.title or "HRI-EMO explanation"
    else:
        explanations, summary = _explain_corpus(args)
        out = Path(args.out or Path(args.model) / "explanations" / args.split)
        title = args.title or f"HRI-EMO explanations: {args.model}, {args.split} split"
    report = write_report(explanations, out, summary=summary, title=title)
    for exp in explanations[: args.show]:
        probs = ", ".join(f"{e} {p:.2f}" for e, p in exp.probabilities.items())
        beta = "" if exp.beta_mean is None else f"  beta {exp.beta_mean:.2f}"
        print(f"{exp.utterance_id or 'input'}: {', '.join(exp.predicted) or '-'} ({probs}){beta}")
    print(f"report: {report}")
    print(f"maps:   {out / 'explanations.json'}")
    return 0


def _explain_new(args: argparse.Namespace) -> list:
    from hri_emo.inference import EmotionRecognizer

    recognizer = EmotionRecognizer.from_pretrained(args.model)
    return [recognizer.classify_file(args.audio, args.text, attribution=args.attribution)]


def _explain_corpus(args: argparse.Namespace) -> tuple[list, dict | None]:
    from hri_emo.explain.corpus import explain_corpus
    from hri_emo.explain.summary import summarize

    limit = args.limit if (args.limit or args.ids or args.summary) else DEFAULT_LIMIT
    if not args.summary:
        explanations = explain_corpus(
            args.model, args.split, ids=args.ids, limit=limit, attribution=args.attribution
        )
        return explanations, None
    explanations = explain_corpus(args.model, args.split, ids=args.ids, limit=limit)
    columns = [c.strip() for c in args.group_by.split(",") if c.strip()]
    summary = summarize(explanations, group_by=columns)
    shown = explanations[: args.show]
    if args.attribution != "attention":
        ids = [exp.utterance_id for exp in shown]
        shown = explain_corpus(args.model, args.split, ids=ids, attribution=args.attribution)
    return shown, summary
