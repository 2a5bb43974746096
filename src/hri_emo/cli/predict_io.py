"""`hri-emo predict`'s guards around the user's data, all without heavy imports.

- `check_options(args)`: every option and path is checked before anything is opened, imported
  or loaded, so a mistake costs well under a second and one line (rc 2), and never an output.
- `atomic_output(path)`: outputs are written to a temporary file beside the target and renamed
  over it only when the run finished; a failed run leaves an existing file as it was.
- `terminal_safe(text)`: control characters, ANSI escapes and bidirectional overrides in a
  transcript are shown escaped (`\\x1b[31m`), never sent to the terminal raw.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from hri_emo.errors import DataError
from hri_emo.inference.asr import check_asr_choice
from hri_emo.paths import AUDIO_SUFFIXES, check_output, check_recording

MANIFEST_SUFFIXES = (".csv", ".jsonl")


def check_options(args: argparse.Namespace) -> None:
    """DataError naming the first option that cannot work (nothing has been opened yet)."""
    for name, value in (("--batch-size", args.batch_size), ("--threads", args.threads)):
        if value < 1:
            raise DataError(f"{name} must be >= 1, got {value}")
    if not (math.isfinite(args.max_seconds) and args.max_seconds > 0):
        raise DataError(
            f"--max-seconds must be a positive number of seconds, got {args.max_seconds}"
        )
    if args.input and (args.audio or args.text is not None):
        raise DataError("give --input, or --audio/--text for one utterance, not both")
    if not args.input and not args.audio and not (args.text and args.text.strip()):
        raise DataError("nothing to classify: give --audio and/or --text, or --input")
    if args.text is not None and "\x00" in args.text:
        raise DataError("--text contains NUL characters")
    check_asr_choice(args.asr)
    model = Path(args.model)
    if not model.exists():
        raise DataError(f"{model} is not a trained model: the path does not exist")
    if not model.is_dir():
        raise DataError(f"model {model} is a file; give the folder that holds it")
    if args.audio:
        check_recording(args.audio)
    if args.input:
        check_input(Path(args.input))
    if args.output:
        if not args.input:
            raise DataError("--output is for many utterances (--input); one prints to stdout")
        allowed = (".jsonl", ".json") if args.json else (".csv", ".jsonl", ".json")
        check_output(args.output, allowed, args.overwrite)


def check_input(path: Path) -> None:
    if path.is_dir():
        return
    if not path.exists():
        raise DataError(
            f"--input {path} does not exist (expected a .csv/.jsonl manifest or a folder of "
            f"recordings: {', '.join(AUDIO_SUFFIXES)})"
        )
    if path.suffix.lower() not in MANIFEST_SUFFIXES:
        raise DataError(
            f"--input {path}: expected a .csv or .jsonl manifest, or a folder of recordings"
        )


def output_format(args: argparse.Namespace) -> str:
    """ "csv" or "jsonl": from --output's extension, else --json."""
    if args.output:
        return "csv" if Path(args.output).suffix.lower() == ".csv" else "jsonl"
    return "jsonl" if args.json else "csv"


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[TextIO]:
    """A text handle on a temporary file beside `path`, renamed to `path` when the block ends
    without an error (and removed when it does not)."""
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def terminal_safe(text: object) -> str:
    """`text` with every non-printable character (C0/C1 controls, ESC, DEL, bidi overrides,
    NUL) shown as its escape: a transcript cannot drive the terminal."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text)
    )
