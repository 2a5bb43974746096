"""Property-based fuzzing of the HTTP API from its own OpenAPI schema (schemathesis, positive
and negative data, coverage + fuzzing phases): no answer is a 5xx and the server stays up.

The schemathesis CLI drives it (its pytest plugin does not load under pytest 9); the case
count is printed (`pytest -s`) and docs/serving.md reports a run."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.timeout(600)
MAX_EXAMPLES = 100  # per operation and phase


def schemathesis_command() -> list[str]:
    beside_python = Path(sys.executable).with_name("schemathesis")
    found = str(beside_python) if beside_python.exists() else shutil.which("schemathesis")
    if found is None:
        pytest.skip("schemathesis is not installed (pip install -e .[dev])")
    return [found]


def test_fuzzing_finds_no_server_error(server, tmp_path):
    command = [
        *schemathesis_command(),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",
        "--seed",
        "1",
        "--request-timeout",
        "60",
    ]
    run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=560)
    summary = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert run.returncode == 0 and summary, run.stdout[-4000:] + run.stderr[-2000:]
    generated, passed = map(int, summary.groups())
    print(f"\nschemathesis: {generated} cases generated, {passed} passed (no 5xx)")
    assert generated == passed > 50
    assert httpx.get(f"{server.url}/healthz").status_code == 200
