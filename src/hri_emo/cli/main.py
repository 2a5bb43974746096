"""`hri-emo` entry point. Each sub-command lives in its own module with a `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from hri_emo.errors import HriEmoError

# Sub-command modules, imported lazily so `hri-emo --help` stays fast.
COMMAND_MODULES = [
    "hri_emo.cli.demo",
    "hri_emo.cli.data",
    "hri_emo.cli.extract",
    "hri_emo.cli.train",
    "hri_emo.cli.evaluate",
    "hri_emo.cli.benchmark",
    "hri_emo.cli.serve",
    "hri_emo.cli.robustness",
    "hri_emo.cli.predict",
    "hri_emo.cli.export",
    "hri_emo.cli.ensemble",
    "hri_emo.cli.explain",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hri-emo", description="Explainable audio-text emotion recognition."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def quiet_libraries() -> None:
    """No "Loading weights 0/103" bars from transformers / huggingface_hub in a CLI run (set
    before they are imported; our own progress bar is the only one)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if "huggingface_hub" in sys.modules:  # already imported (main() called in-process)
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    hf_logging = sys.modules.get("transformers.utils.logging")
    if hf_logging is not None:
        hf_logging.disable_progress_bar()


def main(argv: list[str] | None = None) -> int:
    quiet_libraries()
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    # dotted overrides may come before or after options (`... a=b --output X c=d`)
    if unknown and hasattr(args, "overrides") and not any(u.startswith("-") for u in unknown):
        args.overrides = [*args.overrides, *unknown]
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("lightning.pytorch").propagate = False  # it prints through its own handler
    try:
        return int(args.func(args) or 0)
    except (HriEmoError, FileNotFoundError) as err:
        if args.verbose:
            raise
        print(f"hri-emo {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
