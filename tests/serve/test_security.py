"""Token auth, loopback binding, the bounded inference queue and the request timeout."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import pytest
import websockets

from hri_emo.errors import ConfigError
from hri_emo.serve.settings import ServeSettings

pytestmark = pytest.mark.timeout(120)
TOKEN = "s3cret-token-for-tests-0123456789"


def test_public_bind_needs_a_token():
    with pytest.raises(ConfigError, match="token"):
        ServeSettings(host="0.0.0.0").validate()
    ServeSettings(host="0.0.0.0", token=TOKEN).validate()
    ServeSettings(host="::1").validate()  # loopback needs none
    with pytest.raises(ConfigError, match="16 characters"):
        ServeSettings(host="0.0.0.0", token="short").validate()


def test_token_is_checked_on_every_route_but_healthz(make_server):
    live = make_server(token=TOKEN)
    assert httpx.get(f"{live.url}/healthz").status_code == 200
    for path in ("/readyz", "/v1/model", "/", "/static/app.js", "/openapi.json"):
        refused = httpx.get(f"{live.url}{path}")
        assert refused.status_code == 401, path
        assert refused.json()["error"]["code"] == "unauthorized"
    assert httpx.post(f"{live.url}/v1/predict", json={"text": "hi"}).status_code == 401
    wrong = httpx.get(f"{live.url}/v1/model", headers={"Authorization": "Bearer nope-nope-nope"})
    assert wrong.status_code == 401
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{live.url}/v1/model", headers=bearer).status_code == 200
    assert httpx.get(f"{live.url}/v1/model", headers={"X-API-Token": TOKEN}).status_code == 200
    page = httpx.get(f"{live.url}/?token={TOKEN}")  # the page sets a cookie for its own files
    assert page.status_code == 200 and "hri_emo_token" in page.headers["set-cookie"]
    cookies = {"hri_emo_token": TOKEN}
    assert httpx.get(f"{live.url}/static/app.js", cookies=cookies).status_code == 200


def test_token_on_the_websocket(make_server):
    live = make_server(token=TOKEN)

    async def main():
        with pytest.raises(websockets.InvalidStatus):
            async with websockets.connect(live.ws_url):
                pass
        async with websockets.connect(f"{live.ws_url}?token={TOKEN}") as ws:
            await ws.send('{"type": "start", "sample_rate": 16000}')
            assert '"ready"' in await ws.recv()

    asyncio.run(main())


def test_full_queue_answers_503_with_retry_after(make_server, speech):
    live = make_server(limits={"workers": 1, "queue_size": 0, "retry_after_s": 3})
    audio = speech["happy"].read_bytes()

    async def main():
        async with httpx.AsyncClient(base_url=live.url, timeout=60) as client:
            requests = [
                client.post(
                    "/v1/predict", files={"audio": ("a.wav", audio)}, data={"text": "hello"}
                )
                for _ in range(6)
            ]
            return await asyncio.gather(*requests)

    responses = asyncio.run(main())
    codes = sorted(r.status_code for r in responses)
    assert 200 in codes and 503 in codes, codes
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.headers["retry-after"] == "3" and busy.json()["error"]["code"] == "busy"
    assert httpx.get(f"{live.url}/healthz").status_code == 200


def test_request_timeout_answers_504(make_server):
    live = make_server(limits={"request_timeout_s": 0.001, "max_audio_s": 30})
    wave = (0.1 * np.sin(np.arange(16000 * 20) / 5)).astype(np.float32)
    import base64

    payload = {
        "audio_base64": base64.b64encode((wave * 32767).astype("<i2").tobytes()).decode(),
        "sample_rate": 16000,
        "text": "a long one",
    }
    response = httpx.post(f"{live.url}/v1/predict", json=payload, timeout=60)
    assert response.status_code == 504 and response.json()["error"]["code"] == "timeout"
    assert httpx.get(f"{live.url}/healthz").status_code == 200
