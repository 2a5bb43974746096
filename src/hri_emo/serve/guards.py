"""Browser-facing guards: the Origin check and secrets kept out of the logs.

A WebSocket is not covered by CORS, and a cross-origin form POST is executed even when the page
cannot read the answer, so any web page open in the user's browser could drive a loopback
service. `OriginMiddleware` refuses a WebSocket handshake or a state-changing request whose
`Origin` is neither the server's own page nor an allowed origin (`--allow-origin`). Requests
without an Origin (curl, robots, the Python client) are not browser requests and pass.

The server's own page is an Origin whose host:port is the request's Host, where that host is a
loopback name (or the server is bound beyond loopback, where the token guards it): a DNS
rebinding page (evil.example resolving to 127.0.0.1) is neither.

`redact_secrets` / `SecretFilter`: `token=...` (and similar) in a URL, and dialogue session ids
in /v1/sessions/ID paths, never reach a log line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
SECRET_QUERY = re.compile(r"(?i)\b((?:access_)?token|api_key|apikey|key)=[^&\s\"'#]*")
SESSION_PATH = re.compile(r"(/v1/sessions/)[^/?\s\"']+")  # a session id is a capability
REDACTED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "hri_emo.serve.access")


def redact_secrets(text: str) -> str:
    """`...?token=abc&x=1` -> `...?token=[redacted]&x=1`; `/v1/sessions/ID` -> `.../[redacted]`."""
    return SESSION_PATH.sub(r"\1[redacted]", SECRET_QUERY.sub(r"\1=[redacted]", text))


class SecretFilter(logging.Filter):
    """Rewrites a record's message with its secrets redacted (installed on uvicorn's loggers,
    whose WebSocket lines hold the full URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_secrets(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


def install_secret_filter() -> None:
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, SecretFilter) for f in logger.filters):
            logger.addFilter(SecretFilter())


class OriginMiddleware:
    """403 for a WebSocket or a POST/PUT/PATCH/DELETE from a foreign browser origin."""

    def __init__(
        self, app: Any, allowed: list[str], public_bind: bool, error: Callable[..., Any]
    ) -> None:
        self.app, self.error, self.public_bind = app, error, public_bind
        self.any = "*" in allowed
        self.allowed = {o.rstrip("/").lower() for o in allowed}

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        checked = scope["type"] == "websocket" or (
            scope["type"] == "http" and scope["method"] not in SAFE_METHODS
        )
        origin = _header(scope, b"origin") if checked else None
        if origin is None or self.permits(origin, _header(scope, b"host") or ""):
            await self.app(scope, receive, send)
            return
        message = (
            f"origin {origin[:100]!r} may not use this server: only its own page and "
            "--allow-origin origins may"
        )
        if scope["type"] == "websocket":  # closing before accept answers the handshake with 403
            await send({"type": "websocket.close", "code": 1008, "reason": "origin not allowed"})
            return
        request_id = scope.get("state", {}).get("request_id")
        response = self.error(403, "forbidden_origin", message, request_id=request_id)
        await response(scope, receive, send)

    def permits(self, origin: str, host: str) -> bool:
        origin = origin.strip().lower().rstrip("/")
        if self.any or origin in self.allowed:
            return True
        try:
            parts = urlsplit(origin)
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        if parts.netloc != host.strip().lower():
            return False
        return (
            self.public_bind
            or parts.hostname in LOOPBACK_HOSTS
            or parts.netloc in (urlsplit(o).netloc for o in self.allowed)
        )


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None
