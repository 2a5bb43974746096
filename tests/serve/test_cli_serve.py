"""`hri-emo serve` as a real process: it refuses a public bind without a token, serves, and on
SIGTERM finishes the requests in flight before it exits."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = pytest.mark.timeout(180)


def serve_command(model_dir, *extra: str) -> list[str]:
    return [sys.executable, "-m", "hri_emo.cli.main", "serve", str(model_dir), *extra]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_public_bind_without_token_is_refused(model_dir):
    env = {k: v for k, v in os.environ.items() if k != "HRI_EMO_TOKEN"}
    run = subprocess.run(
        serve_command(model_dir, "--host", "0.0.0.0"),
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert run.returncode == 2 and "API token" in run.stderr


@pytest.fixture
def serve_process(model_dir):
    port = free_port()
    process = subprocess.Popen(
        serve_command(model_dir, "--port", str(port), "--queue-size", "16"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        else:
            raise RuntimeError(f"hri-emo serve did not become ready: {process.communicate()[0]}")
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def test_sigterm_drains_requests_in_flight(serve_process, speech):
    process, url = serve_process
    audio = speech["happy"].read_bytes()

    async def main():
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            requests = [
                asyncio.ensure_future(
                    client.post(
                        "/v1/predict", files={"audio": ("a.wav", audio)}, data={"text": "hello"}
                    )
                )
                for _ in range(8)
            ]
            await asyncio.sleep(0.15)  # the requests are in the server (queued or running)
            process.send_signal(signal.SIGTERM)
            return await asyncio.gather(*requests, return_exceptions=True)

    responses = asyncio.run(main())
    assert all(isinstance(r, httpx.Response) and r.status_code == 200 for r in responses), [
        getattr(r, "status_code", r) for r in responses
    ]
    # uvicorn re-raises the signal once it has drained, so the exit status says "SIGTERM"
    assert process.wait(timeout=60) in (0, -signal.SIGTERM)
    log = process.stdout.read()
    assert "Finished server process" in log and log.count('"path": "/v1/predict"') == 8
