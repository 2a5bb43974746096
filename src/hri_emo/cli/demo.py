"""`hri-emo demo`: build the spoken demo corpus, train v2 and baselines, explain the test set."""

from __future__ import annotations

import argparse
import logging
import warnings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="the whole job on a generated spoken corpus: train, evaluate, explain (offline)",
        description=(
            "Synthesises a small spoken emotion corpus (eSpeak NG; words, voice or both carry "
            "the emotion), extracts MiniLM + Whisper tiny.en features, trains hriemo-v2 and the "
            "text-only and audio-only baselines, tests them on held-out voices and writes an "
            "HTML explanation report. A second run reuses everything already done."
        ),
    )
    parser.add_argument(
        "--out", default="hri-emo-demo", help="output folder (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default: %(default)s)")
    parser.add_argument(
        "overrides", nargs="*", default=[], help="config overrides, e.g. trainer.max_epochs=5"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hri_emo.demo.pipeline import run_demo

    _quiet_libraries()
    summary = run_demo(Path(args.out), seed=args.seed, overrides=args.overrides)
    print(headline(summary, Path(args.out)))
    return 0


def headline(summary: dict, out) -> str:
    """The numbers a newcomer should see, and where everything is."""
    acc, beta = summary["accuracy"], summary["beta_by_carrier"]
    align = summary["alignment_accuracy"]
    lines = [
        "",
        "HRI-EMO demo: test split = voices and sentences never heard in training",
        "  accuracy   " + "   ".join(f"{m} {v:.3f}" for m, v in acc.items()),
        f"  beta (audio trust): voice carries the emotion {beta['voice']:.2f}, "
        f"words carry it {beta['words']:.2f}",
        *_noise_line(summary),
        f"  alignment: {align['accuracy']:.0%} of words attend inside their own spoken span "
        f"(chance {align['chance']:.0%})",
        *_attribution_lines(summary),
        f"  report   : {summary['report']}",
        f"  summary  : {out / 'demo.json'}  (took {summary['seconds']:.0f} s)",
    ]
    return "\n".join(lines)


def _noise_line(summary: dict) -> list[str]:
    """Mean beta on clean test recordings, at 0 dB white noise and on noise alone."""
    noise = summary.get("beta_under_noise")
    if not noise:
        return []
    return [
        f"  beta under noise: clean {noise['clean']:.2f}, white noise 0 dB "
        f"{noise['white-0db']:.2f}, recording replaced by noise {noise['noise-only']:.2f}"
    ]


def _attribution_lines(summary: dict) -> list[str]:
    """Keyword top-1, separation and the audio share per carrier (absent in old summaries)."""
    if "keyword_top1" not in summary:
        return []
    key, sep = summary["keyword_top1"], summary["map_separation"]
    share = summary["audio_share_by_carrier"]
    erased = summary.get("keyword_top1_erasure")
    by_erasure = f", word erasure {erased['top1']:.0%}" if erased else ""
    return [
        f"  attribution: top word is a marked emotional word in {key['top1']:.0%} of "
        f"word-carried utterances with the model's exact map{by_erasure} "
        f"(chance {key['chance']:.0%}); separation between emotions' maps "
        f"{sep['separation']:.2f}",
        f"  audio share of the map: voice carries it {share.get('voice', float('nan')):.2f}, "
        f"words carry it {share.get('words', float('nan')):.2f}",
    ]


def _quiet_libraries() -> None:
    """Lightning's banners and tips say nothing to a demo user; warnings stay in the log."""
    for name in ("lightning.pytorch", "lightning.fabric", "lightning", "matplotlib"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="lightning")
