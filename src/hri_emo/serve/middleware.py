"""ASGI middleware: request ids + structured access logs, and the API token check.

Access log lines are JSON on the `hri_emo.serve.access` logger, one per HTTP request and one
per WebSocket session:
    {"event": "http", "request_id": "9c1e...", "method": "POST", "path": "/v1/predict",
     "status": 200, "latency_ms": 41.2, "client": "127.0.0.1", "bytes_in": 96044}
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

access_log = logging.getLogger("hri_emo.serve.access")
TOKEN_COOKIE = "hri_emo_token"
OPEN_PATHS = ("/healthz",)
STREAM_SUBPROTOCOL = "hri-emo"  # the one the server selects; offer it with "token.T"
TOKEN_SUBPROTOCOL_PREFIX = "token."  # reachable without the token (liveness probes)


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


class RequestContextMiddleware:
    """Gives every request an id (its X-Request-ID when sane, else a new one), echoes it in
    the response headers and writes one access log line when the answer is done."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id") or ""
        ok = 8 <= len(given) <= 64 and given.replace("-", "").isalnum()
        request_id = given if ok else uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        start, status, size = time.perf_counter(), [0], [0]

        async def counting_receive() -> dict:
            message = await receive()
            size[0] += len(message.get("body", b"") or message.get("bytes", b"") or b"")
            return message

        async def tagging_send(message: dict) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "websocket.close" and not status[0]:
                status[0] = message.get("code", 1000)
            await send(message)

        try:
            await self.app(scope, counting_receive, tagging_send)
        finally:
            client = scope.get("client") or ("-", 0)
            access_log.info(
                json.dumps(
                    {
                        "event": scope["type"],
                        "request_id": request_id,
                        "method": scope.get("method", "WS"),
                        "path": scope.get("path"),
                        "status": status[0] or (101 if scope["type"] == "websocket" else 0),
                        "latency_ms": round(1000 * (time.perf_counter() - start), 2),
                        "client": client[0],
                        "bytes_in": size[0],
                    }
                )
            )


class TokenAuthMiddleware:
    """Every route but /healthz needs the token: `Authorization: Bearer T`, `X-API-Token: T`,
    a WebSocket subprotocol `token.T` offered next to `hri-emo` (browsers' WebSockets cannot
    set headers), `?token=T` (redacted from every log line), or the cookie the page sets after
    being opened with `?token=T`."""

    def __init__(self, app: Any, token: str, error: Callable[..., Any]) -> None:
        self.app, self.token, self.error = app, token.encode(), error

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
        candidates = [
            query,
            _bearer(scope),
            _header(scope, b"x-api-token"),
            _cookie(scope),
            _subprotocol_token(scope),
        ]
        if not any(c and hmac.compare_digest(c.encode(), self.token) for c in candidates):
            await self._refuse(scope, receive, send)
            return
        if query and scope["type"] == "http" and scope["path"] == "/":
            send = _setting_cookie(send, query)
        await self.app(scope, receive, send)

    async def _refuse(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "websocket":  # closing before accept answers the handshake with 403
            await send(
                {"type": "websocket.close", "code": 1008, "reason": "missing or wrong token"}
            )
            return
        response = self.error(
            401,
            "unauthorized",
            "missing or wrong API token: send 'Authorization: Bearer <token>'",
            request_id=scope.get("state", {}).get("request_id"),
        )
        response.headers["WWW-Authenticate"] = "Bearer"
        await response(scope, receive, send)


def _bearer(scope: dict) -> str | None:
    value = _header(scope, b"authorization") or ""
    return value[7:].strip() if value.lower().startswith("bearer ") else None


def _subprotocol_token(scope: dict) -> str | None:
    for offered in scope.get("subprotocols", ()):
        if offered.startswith(TOKEN_SUBPROTOCOL_PREFIX):
            return offered[len(TOKEN_SUBPROTOCOL_PREFIX) :]
    return None


def _cookie(scope: dict) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    try:
        morsel = SimpleCookie(raw).get(TOKEN_COOKIE)
    except Exception:  # a malformed Cookie header is simply no cookie
        return None
    return None if morsel is None else morsel.value


def _setting_cookie(send: Callable, token: str) -> Callable:
    cookie = f"{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/".encode()

    async def wrapped(message: dict) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
        await send(message)

    return wrapped
