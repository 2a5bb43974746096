"""Dialogue sessions over a real uvicorn server: context-aware answers, isolation, limits.

The served model is the tiny trained context model (tests/conftest.py `context_model_dir`):
a reply's emotion is decided by the turn before it, so only a server that keeps the session's
turns answers it right.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import httpx
import numpy as np
import pytest
from tests.serve.conftest import LiveServer

from hri_emo.serve.client import StreamClient, read_wav, stream_wave
from hri_emo.serve.guards import redact_secrets

pytestmark = pytest.mark.timeout(120)
REPLY, TOKEN = "okay", "s" * 24
OTHER_CLIENT = httpx.HTTPTransport(local_address="127.0.0.2")  # another address on loopback


@pytest.fixture(scope="module")
def context_recognizer(context_model_dir):
    from hri_emo.inference import EmotionRecognizer

    return EmotionRecognizer.from_pretrained(context_model_dir, asr="none")


@pytest.fixture(scope="module")
def live(context_recognizer):
    from hri_emo.serve.settings import ServeSettings

    server = LiveServer(ServeSettings(asr="none"), context_recognizer).start()
    yield server
    server.stop()


def predict(url: str, client: httpx.Client | None = None, **payload) -> httpx.Response:
    return (client or httpx).post(f"{url}/v1/predict", json=payload, timeout=60)


def test_a_session_answers_with_its_past_turns(live, dialogue_cues, caplog):
    created = httpx.post(f"{live.url}/v1/sessions")
    assert created.status_code == 201, created.text
    body = created.json()
    session = body["session"]
    assert len(session) >= 32 and body["context_turns"] == 2 and body["note"] is None
    first = predict(live.url, text=dialogue_cues["excited"][0], session=session).json()
    assert first["session"] == session and first["result"]["utterance_id"] == "turn-0"
    assert first["result"]["context_turns"] is None
    form = {"text": REPLY, "session": session, "speaker": "user"}
    fields = {k: (None, v) for k, v in form.items()}
    second = httpx.post(f"{live.url}/v1/predict?maps=true", files=fields)
    result = second.json()["result"]
    assert result["context_turns"] == ["turn-0"] and result["predicted"] == ["excited"]
    assert np.shape(result["context_attribution"]) == (2, 1)  # emotions x past turns
    alone = predict(live.url, text=REPLY).json()
    assert "session" not in alone and alone["result"]["context_turns"] is None
    assert httpx.delete(f"{live.url}/v1/sessions/{session}").status_code == 204
    gone = predict(live.url, text=REPLY, session=session)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "unknown_session"
    assert "POST /v1/sessions" in gone.json()["error"]["message"]
    assert httpx.delete(f"{live.url}/v1/sessions/{session}").status_code == 404
    assert "DELETE /v1/sessions/[redacted]" in caplog.text
    assert session not in caplog.text  # an id is a capability: never in a log line


def test_sessions_never_leak_between_dialogues_or_clients(live, dialogue_cues):
    a, b = (httpx.post(f"{live.url}/v1/sessions").json()["session"] for _ in range(2))
    predict(live.url, text=dialogue_cues["excited"][1], session=a)
    predict(live.url, text=dialogue_cues["calm"][1], session=b)
    reply_a = predict(live.url, text=REPLY, session=a).json()["result"]
    reply_b = predict(live.url, text=REPLY, session=b).json()["result"]
    assert reply_a["predicted"] == ["excited"] and reply_b["predicted"] == ["calm"]
    assert reply_a["context_turns"] == reply_b["context_turns"] == ["turn-0"]
    with httpx.Client(transport=OTHER_CLIENT) as other:  # another address: a's id is unknown
        stolen = predict(live.url, other, text=REPLY, session=a)
        assert stolen.status_code == 404, stolen.text
        assert other.delete(f"{live.url}/v1/sessions/{a}").status_code == 404
    assert predict(live.url, text=REPLY, session=a).status_code == 200
    bad = predict(live.url, text=REPLY, speaker="user")  # a speaker needs a session
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "speaker_without_session"
    long_id = predict(live.url, text=REPLY, session="x" * 101)
    assert long_id.status_code == 422
    assert redact_secrets(f'"path": "/v1/sessions/{a}"') == '"path": "/v1/sessions/[redacted]"'


def test_the_stream_keeps_one_dialogue_per_connection(live, dialogue_cues):
    async def converse(cue: str) -> tuple[dict, list[dict]]:
        url = live.ws_url
        async with StreamClient(url, 16000, segmentation="client", speaker="user") as client:
            for text in (cue, REPLY):
                await client.send_transcript(text)
                await client.end_utterance()
            await client.stop()
            found = [m async for m in client.messages() if m["type"] == "result"]
            return client.ready, found

    for label in ("excited", "calm"):
        ready, found = asyncio.run(converse(dialogue_cues[label][2]))
        assert ready["context_turns"] == 2
        assert [m["result"]["utterance_id"] for m in found] == ["turn-0", "turn-1"]
        assert found[1]["result"]["context_turns"] == ["turn-0"]  # a new connection: a new one
        assert found[1]["result"]["predicted"] == [label]


def test_each_segmented_utterance_of_a_stream_is_a_turn(live, stream_wav, dialogue_cues):
    """VAD segmentation of real speech: the second utterance reads the first as context."""
    path, spans = stream_wav
    wave, rate = read_wav(path)
    pieces = [(spans[0][0], dialogue_cues["excited"][0]), (spans[1][0], REPLY)]
    messages = asyncio.run(
        stream_wave(live.ws_url, wave, rate, realtime=False, transcripts=pieces, maps=True)
    )
    found = [m["result"] for m in messages if m["type"] == "result"]
    assert [r["utterance_id"] for r in found] == ["turn-0", "turn-1"], messages
    assert found[0]["context_turns"] is None and found[1]["context_turns"] == ["turn-0"]
    assert np.shape(found[1]["context_attribution"]) == (2, 1)


def test_session_limits_expiry_and_the_usual_guards(context_recognizer, dialogue_cues):
    from hri_emo.serve.limits import ServeLimits
    from hri_emo.serve.settings import ServeSettings

    limits = ServeLimits(max_sessions=3, sessions_per_client=2, session_idle_s=1.5)
    server = LiveServer(ServeSettings(asr="none", token=TOKEN, limits=limits), context_recognizer)
    server.start()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        url = server.url
        assert httpx.post(f"{url}/v1/sessions").status_code == 401
        foreign = httpx.post(
            f"{url}/v1/sessions", headers={**auth, "Origin": "http://evil.example"}
        )
        assert foreign.status_code == 403
        with (
            httpx.Client(headers=auth) as mine,
            httpx.Client(headers=auth, transport=OTHER_CLIENT) as other,
        ):
            ids = [mine.post(f"{url}/v1/sessions").json()["session"] for _ in range(2)]
            refused = mine.post(f"{url}/v1/sessions")
            assert refused.status_code == 429, refused.text
            assert refused.json()["error"]["code"] == "too_many_sessions"
            assert other.post(f"{url}/v1/sessions").status_code == 201
            full = other.post(f"{url}/v1/sessions")
            assert full.status_code == 503 and full.json()["error"]["code"] == "sessions_full"
            assert "Retry-After" in full.headers
            kept = mine.delete(f"{url}/v1/sessions/{ids[0]}", headers={"Origin": "http://x.y"})
            assert kept.status_code == 403  # a foreign page cannot end a session either
            predict(url, mine, text=dialogue_cues["calm"][0], session=ids[1])
            time.sleep(1.0)
            reply = predict(url, mine, text=REPLY, session=ids[1])  # used: kept alive
            assert reply.json()["result"]["context_turns"] == ["turn-0"]
            time.sleep(0.8)  # ids[0] and other's session are now idle for > 1.5 s
            assert predict(url, mine, text=REPLY, session=ids[0]).status_code == 404
            assert other.post(f"{url}/v1/sessions").status_code == 201  # room again
            time.sleep(1.6)
            expired = predict(url, mine, text=REPLY, session=ids[1])
            assert expired.status_code == 404 and "expired" in expired.json()["error"]["message"]
    finally:
        server.stop()


def test_no_sessions_across_processes(context_recognizer):
    """With --processes N a later request may reach another process: sessions are refused."""
    from hri_emo.serve.settings import ServeSettings

    def as_replica(app):
        app.state.replicas = SimpleNamespace(processes=2, all_ready=lambda: True)

    server = LiveServer(ServeSettings(asr="none"), context_recognizer, configure=as_replica)
    server.start()
    try:
        refused = httpx.post(f"{server.url}/v1/sessions")
        assert refused.status_code == 501, refused.text
        assert "WebSocket stream" in refused.json()["error"]["message"]
    finally:
        server.stop()
