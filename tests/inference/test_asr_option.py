"""`--asr` is checked before the model loads (issue 21): a bad value is one line and rc 2 from
the real CLI, and neither torch, transformers nor faster-whisper was imported for it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hri_emo.inference.asr import WHISPER_SIZES, check_asr_choice

pytestmark = pytest.mark.timeout(120)
HEAVY = ("torch", "transformers", "faster_whisper", "ctranslate2")


def cli(*argv: str) -> tuple[int, list[str], set[str]]:
    """rc, the lines a user sees on stderr, and the top-level modules imported (-X importtime)."""
    env = {k: v for k, v in os.environ.items() if k != "HRI_EMO_TOKEN"}
    command = [sys.executable, "-X", "importtime", "-m", "hri_emo.cli.main", *argv]
    run = subprocess.run(command, capture_output=True, text=True, timeout=100, env=env)
    lines = run.stderr.strip().splitlines()
    imported = {line.rsplit("|", 1)[1].strip() for line in lines if line.startswith("import time:")}
    shown = [line for line in lines if not line.startswith("import time:")]
    return run.returncode, shown, imported


@pytest.fixture(scope="module")
def model_dir(embedded_model_dir):
    return embedded_model_dir  # a real model: were it loaded first, the run would get further


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("bogus", ["--asr 'bogus' is not auto, none, a folder, or a Whisper size (tiny, base"]),
        ("", ["--asr '' is not an ASR choice"]),
        ("large-v3", ["--asr 'large-v3' is not in the local Hugging Face cache"]),
        ("./no-such-whisper", ["--asr ./no-such-whisper: the folder does not exist"]),
        ("{tmp}", ["has no model.bin (expected a CTranslate2 Whisper model folder)"]),
    ],
)
def test_bad_asr_is_one_line_before_the_model_loads(model_dir, tmp_path, value, words):
    value = value.format(tmp=tmp_path)
    code, shown, imported = cli("predict", str(model_dir), "--text", "hello there", "--asr", value)
    assert code == 2, shown
    assert len(shown) == 1 and shown[0].startswith("hri-emo predict: error: "), shown
    for word in words:
        assert word in shown[0], shown[0]
    assert not imported & set(HEAVY), imported & set(HEAVY)


def test_serve_checks_asr_before_the_model_loads(model_dir):
    code, shown, imported = cli("serve", str(model_dir), "--asr", "nonsense")
    assert code == 2 and len(shown) == 1, shown
    assert shown[0].startswith("hri-emo serve: error: asr 'nonsense' is not auto, none"), shown
    assert not imported & set(HEAVY), imported & set(HEAVY)


def test_good_choices_pass(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"")
    assert [check_asr_choice(v) for v in ("auto", "tiny.en", "none", "None", str(tmp_path))] == [
        "embedded", "embedded", "none", "none", "folder"
    ]  # fmt: skip


def test_sizes_mirror_faster_whisper():
    from faster_whisper.utils import _MODELS

    assert {**WHISPER_SIZES, "tiny.en": _MODELS["tiny.en"]} == _MODELS
