"""Whether a run folder finished: `run_status.json` says running / finished / failed.

`train` marks the folder "running" before anything can fail, "finished" at the end and
"failed" (with the error, and its traceback in `error.txt`) when it raises. A folder still
marked "running" without a checkpoint was interrupted (killed) or is still training. `evaluate`,
`predict` and `EmotionRecognizer.from_pretrained` use `describe_unfinished` to say what
happened instead of "no checkpoint found".
"""

from __future__ import annotations

import json
import logging
import os
import socket
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

STATUS_FILE = "run_status.json"
ERROR_FILE = "error.txt"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _write(run_dir: Path, status: dict[str, Any]) -> None:
    tmp = run_dir / (STATUS_FILE + ".tmp")
    tmp.write_text(json.dumps(status, indent=2) + "\n")
    os.replace(tmp, run_dir / STATUS_FILE)


def read_status(run_dir: str | Path) -> dict[str, Any] | None:
    """The folder's status record, or None when it has none (older runs, other folders)."""
    path = Path(run_dir) / STATUS_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def mark_running(run_dir: Path) -> None:
    status = {"state": "running", "started": _now(), "pid": os.getpid(), "host": _host()}
    _write(run_dir, status)


def _host() -> str:
    return socket.gethostname()


def _alive(status: dict[str, Any]) -> bool | None:
    """Whether the training process still runs; None when it ran on another machine."""
    pid = status.get("pid")
    if status.get("host") != _host() or not isinstance(pid, int):
        return None
    return process_alive(pid)


def process_alive(pid: int) -> bool:
    """Whether process `pid` of this machine still runs (another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_finished(run_dir: Path) -> None:
    status = read_status(run_dir) or {}
    _write(run_dir, {**status, "state": "finished", "ended": _now()})


def mark_failed(run_dir: Path, error: BaseException) -> None:
    """Record why training stopped (KeyboardInterrupt counts as "interrupted")."""
    state = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
    message = f"{type(error).__name__}: {error}".strip()
    status = read_status(run_dir) or {}
    try:
        (run_dir / ERROR_FILE).write_text("".join(traceback.format_exception(error)))
        _write(run_dir, {**status, "state": state, "ended": _now(), "error": message})
    except OSError as err:  # never hide the training error behind a bookkeeping one
        log.warning("could not record the failure of %s: %s", run_dir, err)


def describe_unfinished(run_dir: str | Path) -> str | None:
    """What happened to a run folder that has no checkpoint, or None if it is no run folder."""
    run_dir = Path(run_dir)
    status = read_status(run_dir)
    if status is None:
        is_checkpoint = (run_dir / "labels.json").is_file()  # a checkpoint folder, not a run
        if (run_dir / "experiment.yaml").is_file() and not is_checkpoint:
            return (
                f"run folder {run_dir} holds no checkpoint: its training did not get to the "
                "first epoch's end (failed or interrupted); train again"
            )
        return None
    state, started = status.get("state"), status.get("started", "?")
    if state in ("failed", "interrupted"):
        return (
            f"run {run_dir} {state} during training (started {started}) before writing a "
            f"checkpoint: {status.get('error', '?')} (traceback in {run_dir / ERROR_FILE}); fix "
            "the cause and train again"
        )
    if state == "running":
        process = f"pid {status.get('pid', '?')} on {status.get('host', '?')}"
        alive = _alive(status)
        if alive is False:
            happened = "was killed (or crashed) before its first checkpoint; train again"
        elif alive:
            happened = "is still running and has not written a checkpoint yet; wait for it"
        else:
            happened = "is still running or was killed before its first checkpoint"
        return f"run {run_dir} has no checkpoint: training started {started} ({process}) {happened}"
    return None


def warn_if_unfinished(run_dir: str | Path) -> None:
    """A log warning when a run that has checkpoints did not finish cleanly."""
    status = read_status(run_dir)
    if status and status.get("state") in ("failed", "interrupted", "running"):
        log.warning(
            "run %s is marked %r (%s); its checkpoints may predate the end of training",
            run_dir,
            status["state"],
            status.get("error", "no end recorded"),
        )
