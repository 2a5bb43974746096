"""Issue 21's open doors, tried against a real uvicorn server: foreign origins, the token in
logs, slow clients (a bounded slowloris run on loopback), the model path, malformed HTTP, and
stream messages out of place."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time

import httpx
import pytest
import websockets

pytestmark = pytest.mark.timeout(120)
TOKEN = "s3cret-token-for-tests-0123456789"
START = '{"type": "start", "sample_rate": 16000}'


def raw_exchange(port: int, request: bytes, wait_s: float = 5.0) -> bytes:
    """Send raw bytes to the server and read until it closes or `wait_s` passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as sock:
        sock.sendall(request)
        return read_until_closed(sock, wait_s)


def read_until_closed(sock: socket.socket, wait_s: float) -> bytes:
    data, deadline = b"", time.monotonic() + wait_s
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def ws_handshake(port: int, origin: str | None, host: str | None = None) -> int:
    """The HTTP status of a WebSocket handshake with this Origin and Host (raw, so Host can
    be anything a DNS-rebinding page would send)."""
    lines = [
        "GET /v1/stream HTTP/1.1",
        f"Host: {host or f'127.0.0.1:{port}'}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = sock.recv(4096).split(b"\r\n")[0]
    return int(head.split()[1])


# -- 1. origins -----------------------------------------------------------------------------


def test_websocket_origin_is_checked(server):
    port, own = server.settings.port, server.url
    assert ws_handshake(port, "http://evil.example") == 403
    assert ws_handshake(port, "null") == 403
    assert ws_handshake(port, own.replace("127.0.0.1", "127.0.0.1.evil.example")) == 403
    # DNS rebinding: evil.example resolves to 127.0.0.1, so Origin and Host agree
    rebound = f"evil.example:{port}"
    assert ws_handshake(port, f"http://{rebound}", host=rebound) == 403
    assert ws_handshake(port, own) == 101  # the server's own page
    assert ws_handshake(port, f"http://localhost:{port}", host=f"localhost:{port}") == 101
    assert ws_handshake(port, None) == 101  # not a browser: a robot, curl, the Python client


def test_foreign_origin_cannot_post(server, speech):
    audio = speech["happy"].read_bytes()
    files = {"audio": ("a.wav", audio)}
    evil = httpx.post(
        f"{server.url}/v1/predict", files=files, headers={"Origin": "http://evil.example"}
    )
    assert evil.status_code == 403 and evil.json()["error"]["code"] == "forbidden_origin"
    own = httpx.post(
        f"{server.url}/v1/predict",
        files=files,
        data={"text": "hello"},
        headers={"Origin": server.url},
        timeout=60,
    )
    assert own.status_code == 200, own.text
    # reading is not state-changing (and CORS keeps the answer from a foreign page)
    got = httpx.get(f"{server.url}/healthz", headers={"Origin": "http://evil.example"})
    assert got.status_code == 200 and "access-control-allow-origin" not in got.headers


def test_allowed_origins(make_server):
    live = make_server(cors_origins=["https://robot.example.org"])
    port = live.settings.port
    assert ws_handshake(port, "https://robot.example.org") == 101
    assert ws_handshake(port, "https://robot.example.org.evil.example") == 403
    posted = httpx.post(
        f"{live.url}/v1/predict",
        json={"text": "hello there"},
        headers={"Origin": "https://robot.example.org"},
        timeout=60,
    )
    assert posted.status_code == 200
    assert posted.headers["access-control-allow-origin"] == "https://robot.example.org"


# -- 2. the token never in a log line --------------------------------------------------------


class KeepLines(logging.Handler):
    """Every line any logger writes (attached after uvicorn configured its loggers, which do
    not propagate), at INFO and above."""

    NAMES = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "hri_emo", "websockets")

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(("httpx", "httpcore", "websockets.client")):  # clients
            self.lines.append(self.format(record))

    def __enter__(self) -> KeepLines:
        self.saved = []
        for name in self.NAMES:
            logger = logging.getLogger(name)
            self.saved.append((logger, logger.level))
            logger.addHandler(self)
            if logger.getEffectiveLevel() > logging.INFO:
                logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc: object) -> None:
        for logger, level in self.saved:
            logger.removeHandler(self)
            logger.setLevel(level)


def test_no_log_line_holds_a_token(make_server):
    live = make_server(token=TOKEN)
    wrong = "wrong-token-that-must-not-be-logged-42"

    async def main():
        async with websockets.connect(f"{live.ws_url}?token={TOKEN}") as ws:
            await ws.send(START)
            assert json.loads(await ws.recv())["type"] == "ready"
        offered = ["hri-emo", f"token.{TOKEN}"]
        async with websockets.connect(live.ws_url, subprotocols=offered) as ws:
            assert ws.subprotocol == "hri-emo"
            await ws.send(START)
            assert json.loads(await ws.recv())["type"] == "ready"
        for url in (f"{live.ws_url}?token={wrong}", f"{live.ws_url}?x=1&token={wrong}&y=2"):
            with pytest.raises(websockets.InvalidStatus):
                async with websockets.connect(url):
                    pass

    with KeepLines() as kept:
        asyncio.run(main())
        assert httpx.get(f"{live.url}/?token={TOKEN}").status_code == 200
        assert httpx.get(f"{live.url}/v1/model?token={wrong}").status_code == 401
        time.sleep(0.2)  # the last access lines
    text = "\n".join(kept.lines)
    assert "WebSocket /v1/stream?token=[redacted]" in text  # uvicorn's line, redacted
    assert '"path": "/v1/model"' in text
    assert TOKEN not in text and wrong not in text


# -- 3. read deadlines and the connection cap ------------------------------------------------

SLOW = {"header_timeout_s": 1.0, "body_timeout_s": 1.5, "keep_alive_s": 1.0}


def test_idle_and_slow_connections_are_closed(make_server):
    live = make_server(limits={**SLOW, "http_connections_per_client": 64})
    port = live.settings.port
    start = time.monotonic()
    assert raw_exchange(port, b"", wait_s=5) == b""  # idle: closed without a word
    assert time.monotonic() - start < 3
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:  # slow headers
        sock.sendall(b"POST /v1/predict HTTP/1.1\r\n")
        for _ in range(20):  # one header byte every 0.25 s, bounded
            try:
                sock.sendall(b"X")
            except OSError:
                break
            time.sleep(0.25)
        answer = read_until_closed(sock, 3)
    assert answer.startswith(b"HTTP/1.1 408") and b'"request_timeout"' in answer
    head = b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:  # slow body
        sock.sendall(head + b"Content-Length: 1000\r\n\r\n")
        for _ in range(20):
            try:
                sock.sendall(b" ")
            except OSError:
                break
            time.sleep(0.25)
        answer = read_until_closed(sock, 3)
    assert answer.startswith(b"HTTP/1.1 408") and b"--body-timeout-s" in answer
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:  # idle keep-alive
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        before = time.monotonic()
        answer = read_until_closed(sock, 4)
        assert b" 200 " in answer.split(b"\r\n")[0] and time.monotonic() - before < 3
    assert httpx.get(f"{live.url}/healthz").status_code == 200


def test_connections_per_client_and_a_bounded_slowloris(make_server):
    live = make_server(limits={**SLOW, "http_connections_per_client": 8, "retry_after_s": 2})
    port = live.settings.port
    started = time.monotonic()
    attackers = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(40)]
    refused = 0
    try:
        for sock in attackers:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # a head that never ends
        # another loopback address is another client: it is served meanwhile
        other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        assert other.get(f"{live.url}/healthz").status_code == 200
        for _ in range(8):  # trickle for ~2 s (bounded); the server must cut every one
            for sock in attackers:
                with contextlib.suppress(OSError):
                    sock.sendall(b"X-a: b\r\n")
            time.sleep(0.25)
        answers = [read_until_closed(sock, 3) for sock in attackers]
    finally:
        for sock in attackers:
            sock.close()
    for answer in answers:
        status = answer.split(b"\r\n")[0]
        refused += status.startswith(b"HTTP/1.1 503")
        assert status.startswith((b"HTTP/1.1 503", b"HTTP/1.1 408")), answer[:200]
        if status.startswith(b"HTTP/1.1 503"):
            assert b"retry-after: 2" in answer.lower() and b"too_many_connections" in answer
    assert refused >= 40 - 8  # only 8 were let through to the header deadline
    assert time.monotonic() - started < 30
    assert httpx.get(f"{live.url}/healthz").status_code == 200  # slots were given back


# -- 4. no path in /v1/model ------------------------------------------------------------------


def test_model_info_names_no_path(make_server, model_dir):
    live = make_server(model=model_dir)
    info = httpx.get(f"{live.url}/v1/model")
    assert info.status_code == 200
    assert info.json()["model"]["folder"] == model_dir.name
    assert str(model_dir.parent) not in info.text and "/tmp" not in info.text


# -- 10. malformed HTTP and stream messages out of place -------------------------------------


def test_content_length_smaller_than_body_gets_json(server):
    body = b'{"text": "hello there robot"}'
    request = (
        b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 5\r\n\r\n" + body
    )
    answer = raw_exchange(server.settings.port, request)
    responses = [r for r in answer.split(b"HTTP/1.1 ")[1:]]
    assert responses, answer
    for response in responses:
        assert b"content-type: application/json" in response.lower(), response
        payload = json.loads(response.split(b"\r\n\r\n", 1)[1])
        assert payload["error"]["code"] in ("invalid_request", "invalid_http"), payload
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_stream_messages_out_of_place(server):
    async def main():
        async with websockets.connect(server.ws_url) as ws:
            await ws.send(START)
            assert json.loads(await ws.recv())["type"] == "ready"
            got = []
            for message in (
                START,
                '{"type": "dance"}',
                "[1, 2]",
                '{"type": "transcript", "text": "nul \\u0000 inside"}',
                '{"type": "transcript", "text": "still here"}',
                '{"type": "end_utterance"}',
            ):
                await ws.send(message)
            while len(got) < 5:
                got.append(json.loads(await ws.recv()))
            return got

    got = asyncio.run(main())
    errors = [m["message"] for m in got[:4]]
    assert all(m["code"] == "invalid_message" for m in got[:4]), got
    assert "already started" in errors[0] and "unknown message type 'dance'" in errors[1]
    assert "JSON object" in errors[2] and "NUL" in errors[3]
    assert got[4]["type"] == "result" and got[4]["result"]["transcript"] == "still here"
