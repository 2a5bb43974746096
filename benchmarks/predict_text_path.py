"""Which project files `hri-emo predict MODEL --text "..."` passes through (docs/architecture.md).

    python benchmarks/predict_text_path.py RUN_FOLDER [--text "I am so happy"]

Runs the command twice in this process (the first warms lazy imports and first-use set-up), the
second under `sys.setprofile`, and prints how many hri_emo files the whole command ran code of,
and the path of the utterance: the files from `predict_one` (cli/predict.py) to the model and
back to the printed table, with how often a call came into each from another file. The model
and the encoders count as one entered file each (their internals are not the path); module
bodies run at import time do not count.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from collections import Counter
from pathlib import Path

import hri_emo

PACKAGE = Path(hri_emo.__file__).parent


COMPONENTS = ("model/", "encoders/")  # entered, not walked: their internals are not the path


def project_file(code) -> str | None:
    path = Path(code.co_filename)
    if code.co_name == "<module>" or PACKAGE not in path.parents:
        return None
    return str(path.relative_to(PACKAGE))


class PathTrace:
    """Profiles calls into hri_emo functions: every file whose code ran (the whole command), and
    inside `predict_one` the files of the path in the order entered, each with how often it was
    re-entered (called while a frame of it already waited lower on the stack, below another
    file's). A call into the model or an encoder from outside opens a black box: nothing is
    recorded until it returns."""

    def __init__(self) -> None:
        self.whole: set[str] = set()
        self.path: list[str] = []
        self.reentered: Counter = Counter()
        self.stack: list[tuple[object, str]] = []  # (frame, file) of the project frames
        self.box = None  # the frame of the component call being run

    def __call__(self, frame, event, arg) -> None:
        if event not in ("call", "return"):
            return
        name = project_file(frame.f_code)
        if name is None:
            return
        if event == "return":
            if self.stack and self.stack[-1][0] is frame:
                self.stack.pop()
            if self.box is frame:
                self.box = None
            return
        self.whole.add(name)
        inside = any(f == "cli/predict.py" and fr.f_code.co_name == "predict_one"
                     for fr, f in self.stack) or frame.f_code.co_name == "predict_one"  # fmt: skip
        if self.box is not None or not inside:
            return
        files = [f for _, f in self.stack]
        if name in files and files[-1] != name:
            self.reentered[name] += 1
        self.path.append(name)
        self.stack.append((frame, name))
        if name.startswith(COMPONENTS) and not files[-1].startswith(COMPONENTS):
            self.box = frame


def report(trace: PathTrace) -> None:
    files = list(dict.fromkeys(trace.path))
    again = dict(trace.reentered) or "none"
    print(f"the utterance (predict_one -> the model -> the table): {len(files)} files; "
          f"re-entered: {again}")  # fmt: skip
    for name in files:
        print(
            f"  {name}"
            + (f" (re-entered {trace.reentered[name]}x)" if name in trace.reentered else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a run, checkpoint or save_pretrained folder")
    parser.add_argument("--text", default="I am so happy to see you again")
    args = parser.parse_args()
    from hri_emo.cli.main import main as cli

    command = ["predict", args.model, "--text", args.text]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        cli(command)  # once, so that lazy imports and first-use set-up are not on the path
    trace = PathTrace()
    sys.setprofile(trace)
    try:
        with contextlib.redirect_stdout(printed):
            cli(command)
    finally:
        sys.setprofile(None)
    print(f"command: hri-emo {' '.join(command)}")
    print(f"whole command: code of {len(trace.whole)} hri_emo files ran")
    report(trace)


if __name__ == "__main__":
    main()
