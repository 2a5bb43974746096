"""`hri-emo serve --processes 2` as a real process: two uvicorn workers behind one port, each
with its own model and the same token; /readyz waits for both (also when one dies and is
restarted); requests are answered over real HTTP."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hri_emo.serve.replicas import rss_mib

pytestmark = pytest.mark.timeout(240)
TOKEN = "replica-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return found


def wait_ready(url: str, seconds: float = 150) -> list[dict]:
    """Poll /readyz until 200; returns the 503 bodies seen on the way."""
    seen, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"{url}/readyz", headers=AUTH, timeout=5)
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        if answer.status_code == 200:
            return seen
        seen.append(answer.json())
        time.sleep(0.2)
    raise AssertionError(f"not ready within {seconds} s; last answers {seen[-3:]}")


def test_two_processes_behind_one_port(embedded_model_dir):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HRI_EMO_TOKEN": TOKEN}
    command = [sys.executable, "-m", "hri_emo.cli", "serve", str(embedded_model_dir), "--port",
               str(port), "--processes", "2", "--asr", "none", "--vad", "webrtc",
               "--torch-threads", "1"]  # fmt: skip
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        seen = wait_ready(url)
        assert all(body["workers"] == 2 and body["workers_ready"] < 2 for body in seen)
        assert httpx.get(f"{url}/readyz", timeout=5).status_code == 401  # the token holds
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        workers = [p for p in children(server.pid) if (rss_mib(p) or 0) > 200]
        assert len(workers) == 2  # two replicas, each with a model loaded

        def predict(i: int) -> int:
            form = {"text": (None, f"i am so happy today {i}")}  # multipart, as the API takes
            answer = httpx.post(f"{url}/v1/predict", files=form, headers=AUTH, timeout=60)
            return answer.status_code

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            assert list(pool.map(predict, range(12))) == [200] * 12

        os.kill(workers[0], signal.SIGKILL)  # one replica dies: not ready until it is back
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline:
            answer = httpx.get(f"{url}/readyz", headers=AUTH, timeout=5)
            if answer.status_code == 503:
                body = answer.json()
                break
            time.sleep(0.05)
        assert body is not None and body["workers_ready"] == 1
        wait_ready(url)  # uvicorn restarted the worker, which loaded and warmed up its model
        assert predict(99) == 200
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0]
    assert server.returncode == 0, output[-2000:]
    assert output.count("ready (resident memory") >= 3
