"""`hri-emo serve` start-up failures as a real process: one line and exit code 2, never 40-60
lines of uvicorn traceback; a bad port or a taken one is refused before the model loads."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

from hri_emo.model import create_model

pytestmark = pytest.mark.timeout(300)


def serve(model, *extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HRI_EMO_TOKEN"}
    command = [sys.executable, "-m", "hri_emo.cli.main", "serve", str(model), *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)


def one_line(run: subprocess.CompletedProcess, *words: str) -> None:
    err = run.stderr.strip()
    assert run.returncode == 2, err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("hri-emo serve: error: "), err
    for word in words:
        assert word in err, err


def test_bad_and_taken_ports_fail_before_the_model_loads(tmp_path):
    missing = tmp_path / "no-model"  # were the model loaded first, this would be the error
    one_line(serve(missing, "--port", "99999"), "port 99999 is not a TCP port (expected 1-65535)")
    one_line(serve(missing, "--port", "0"), "port 0")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        one_line(serve(missing, "--port", port), f"127.0.0.1:{port}", "already in use")


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    return create_model("hriemo-v2", text_dim=384, audio_dim=384).save_pretrained(
        tmp_path_factory.mktemp("serve_models") / "good"
    )


def _copy(small_model, tmp_path, name):
    folder = tmp_path / name
    shutil.copytree(small_model, folder)
    return folder


def test_missing_model_is_one_line(tmp_path):
    one_line(serve(tmp_path / "nowhere"), "nowhere", "does not exist")


@pytest.mark.slow  # four processes that load the model (~1 min)
def test_model_failures_are_one_line(small_model, tmp_path):
    truncated = _copy(small_model, tmp_path, "truncated")
    weights = truncated / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    one_line(serve(truncated), "model.safetensors is corrupt or truncated")
    bad_config = _copy(small_model, tmp_path, "bad_config")
    config = json.loads((bad_config / "config.json").read_text())
    (bad_config / "config.json").write_text(json.dumps({**config, "hidden_dim": "sixty-four"}))
    one_line(serve(bad_config), "hidden_dim must be an integer, got 'sixty-four'")
    one_line(serve(small_model, "--backend", "tpu"), "backend 'tpu'")


@pytest.mark.slow
def test_wrong_dimension_is_one_line(tmp_path):
    wide = create_model("hriemo-v2", text_dim=768, audio_dim=384).save_pretrained(tmp_path / "w")
    one_line(serve(wide, "--asr", "none"), "768")


def test_allow_origin_flag():
    from hri_emo.cli.main import build_parser

    parser = build_parser()
    args = parser.parse_args(["serve", "m", "--allow-origin", "https://a.example",
                              "--cors-origin", "https://b.example"])  # fmt: skip
    assert args.cors_origin == ["https://a.example", "https://b.example"]
