"""The layers of docs/architecture.md, enforced: import-linter's contracts in pyproject.toml.

A module may import from its own room and the rooms below it, never from a room above, and no
modules or packages import each other in a cycle. A failure names the offending import chain.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def _lint_imports(config: Path) -> subprocess.CompletedProcess:
    """`lint-imports` on `config`, with the package under `config`'s folder first on the path."""
    env = {**os.environ, "PYTHONPATH": str(config.parent / "src")}
    command = [sys.executable, "-c", LINT, "--config", str(config), "--no-cache"]
    return subprocess.run(command, cwd=config.parent, env=env, capture_output=True, text=True)


def test_import_contracts_hold():
    run = _lint_imports(ROOT / "pyproject.toml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_an_upward_import_breaks_the_layers(tmp_path):
    """The same contract on a copy of the package where model/ imports inference/ fails."""
    package = tmp_path / "src" / "hri_emo"
    for path in (ROOT / "src" / "hri_emo").rglob("*.py"):
        target = package / path.relative_to(ROOT / "src" / "hri_emo")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    (package / "model" / "upward.py").write_text("import hri_emo.inference.recognizer\n")
    config = tmp_path / "pyproject.toml"
    config.write_text((ROOT / "pyproject.toml").read_text())
    run = _lint_imports(config)
    assert run.returncode != 0
    assert "hri_emo.model.upward -> hri_emo.inference.recognizer" in run.stdout
