"""The `>>>` examples in the package's docstrings run as doctests (offline, in seconds).

Every module under src/hri_emo whose source holds a `>>>` example is collected, so a new example
runs without being listed here; an example that needs a trained model belongs in a plain code
block instead (no `>>>`).
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import hri_emo

PACKAGE = Path(hri_emo.__file__).parent


def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = _modules_with_examples()


def test_the_package_has_examples_to_run():
    assert len(MODULES) >= 3, MODULES  # readers, splits, training config at least


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name}: no example was found to run"
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
