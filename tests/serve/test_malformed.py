"""Every malformed request gets a 4xx JSON error that names the problem; the server stays up."""

from __future__ import annotations

import base64
import io
import wave as wavelib

import httpx
import pytest

pytestmark = pytest.mark.timeout(120)


def empty_wav() -> bytes:
    buffer = io.BytesIO()
    with wavelib.open(buffer, "wb") as handle:
        handle.setnchannels(1), handle.setsampwidth(2), handle.setframerate(16000)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


JSON = {"Content-Type": "application/json"}
BAD_REQUESTS = {
    # name: (request keyword arguments, expected status, word the error message must contain)
    "empty body": ({"content": b"", "headers": JSON}, 422, "empty"),
    "not json": ({"content": b"{not json", "headers": JSON}, 422, "json"),
    "json not an object": ({"content": b"[1, 2]", "headers": JSON}, 422, "object"),
    "garbage wav": ({"files": {"audio": ("x.wav", b"RIFF\x00garbage" * 40)}}, 422, "wav"),
    "empty wav file": ({"files": {"audio": ("x.wav", b"")}}, 422, "empty"),
    "wav with no samples": ({"files": {"audio": ("x.wav", empty_wav())}}, 422, "0 samples"),
    "garbage wav in json": ({"json": {"audio_base64": b64(b"\x01" * 999), "encoding": "wav"}},
                            422, "wav"),
    "bad base64": ({"json": {"audio_base64": "%%%not base64%%%", "sample_rate": 16000}},
                   422, "base64"),
    "negative sample rate": ({"json": {"audio_base64": b64(b"\0\1" * 800), "sample_rate": -16000}},
                             422, "sample_rate"),
    "absurd sample rate": ({"json": {"audio_base64": b64(b"\0\1" * 800), "sample_rate": 10**12}},
                           422, "sample_rate"),
    "pcm without sample rate": ({"json": {"audio_base64": b64(b"\0\1" * 800)}}, 422, "sample_rate"),
    "odd pcm byte count": ({"json": {"audio_base64": b64(b"\0\1\2"), "sample_rate": 16000}},
                           422, "16-bit"),
    "64 MB body": ({"content": b"0" * (64 * 2**20), "headers": JSON}, 413, "limit"),
    "text not utf-8 (json)": ({"content": b'{"text": "\xff\xfe caf\xe9"}', "headers": JSON},
                              422, "unicode"),
    "text not utf-8 (form)": ({"files": {"text": (None, b"\xff\xfe caf\xe9")}}, 422, "utf-8"),
    "unknown json field": ({"json": {"text": "hello", "mood": "bob"}}, 422, "mood"),
    "unknown form field": ({"files": {"text": (None, b"hi"), "mood": (None, b"bob")}},
                           422, "mood"),
    "speaker without a session": ({"json": {"text": "hi", "speaker": "bob"}}, 422, "session"),
    "unknown session": ({"json": {"text": "hi", "session": "nope"}}, 404, "no such dialogue"),
    "nothing to classify": ({"json": {"text": "   "}}, 422, "transcript"),
    "wrong content type": ({"content": b"hello", "headers": {"Content-Type": "text/plain"}},
                           415, "content type"),
    "text too long": ({"json": {"text": "la " * 5000}}, 413, "limit"),
    "audio too long": ({"json": {"audio_base64": b64(b"\0\1" * 16000 * 31),
                                 "sample_rate": 16000}}, 413, "limit"),
    "silent audio": ({"json": {"audio_base64": b64(b"\0\0" * 16000), "sample_rate": 16000}},
                     422, "silent"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_request_is_a_named_4xx(server, name):
    kwargs, status, word = BAD_REQUESTS[name]
    response = httpx.post(f"{server.url}/v1/predict", timeout=60, **kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert word.lower() in error["message"].lower(), error
    assert error["code"] and response.json()["request_id"]
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_unknown_route_and_method_are_json(server):
    missing = httpx.get(f"{server.url}/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = httpx.get(f"{server.url}/v1/predict")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"


def test_chunked_body_over_the_limit_is_cut(make_server):
    live = make_server(limits={"max_body_bytes": 100_000})

    def chunks():
        for _ in range(50):
            yield b"x" * 10_000

    response = httpx.post(f"{live.url}/v1/predict", content=chunks(), headers=JSON, timeout=30)
    assert response.status_code == 413
    assert httpx.get(f"{live.url}/healthz").status_code == 200
