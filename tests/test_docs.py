"""The README and docs/ match the code: every `hri-emo` command in a code block parses, every
dotted config key exists, and every relative link points at a file."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from hri_emo.cli.main import build_parser
from hri_emo.training.config import ExperimentConfig

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FREE_FORM = {"params", "per_model", "reader_options"}  # dict-valued config fields


def code_commands(page: Path) -> list[str]:
    """`hri-emo ...` lines of the page's fenced code blocks (backslash continuations joined)."""
    commands = []
    for block in re.findall(r"```(?:bash|sh|console)?\n(.*?)```", page.read_text(), flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip().removeprefix("$ ")
            line = re.sub(r"^(\.venv/bin/)", "", line)
            if line.startswith("hri-emo "):
                commands.append(line.split(" #")[0].split(" | ")[0].split(" && ")[0])
    return commands


COMMANDS = [(page.name, c) for page in PAGES for c in code_commands(page)]


def config_key_exists(key: str) -> bool:
    node = OmegaConf.structured(ExperimentConfig)
    for part in key.split("."):
        if part in FREE_FORM:
            return True
        if not OmegaConf.is_config(node) or part not in node:
            return False
        node = node[part]
    return True


def test_the_docs_show_commands():
    assert len(COMMANDS) > 15


@pytest.mark.parametrize(("page", "command"), COMMANDS, ids=[f"{p}:{c[:60]}" for p, c in COMMANDS])
def test_command_parses_and_its_config_keys_exist(page, command):
    _, unknown = build_parser().parse_known_args(shlex.split(command)[1:])
    for item in unknown:
        assert "=" in item and not item.startswith("-"), f"{page}: unknown argument {item!r}"
        key = item.split("=", 1)[0]
        assert config_key_exists(key), f"{page}: config key {key!r} does not exist"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_relative_links_resolve(page):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (page.parent / target).exists(), f"{page.name}: broken link {target}"
