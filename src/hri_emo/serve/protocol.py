"""uvicorn's HTTP protocol with read deadlines and a per-client connection cap (slowloris).

uvicorn bounds only the idle time *after* a response (keep-alive). `guarded_protocol(limits)`
returns a subclass of its httptools protocol that also bounds:
- the request head: a connection must deliver complete headers within `header_timeout_s` of
  opening (or of its first byte after a keep-alive pause), else it gets 408 and is closed;
  a connection that sent nothing at all is closed silently;
- the request body: within `body_timeout_s` of the headers, else 408 and closed;
- the request head's size: over `MAX_HEAD_BYTES` gets 431 and is closed;
- connections per client address: past `http_connections_per_client`, an extra connection is
  answered 503 + Retry-After (JSON) at once and closed.
Malformed HTTP (uvicorn's plain-text 400) is answered with the API's JSON error shape.
A WebSocket upgrade leaves this protocol: the stream has its own start timeout and cap.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from hri_emo.serve.limits import ServeLimits

REASONS = {
    400: b"Bad Request",
    408: b"Request Timeout",
    431: b"Request Header Fields Too Large",
    503: b"Service Unavailable",
}
MAX_HEAD_BYTES = 64 * 1024  # request line + headers (llhttp itself sets no limit)


class HeadTooLarge(Exception):
    """Raised from a parser callback: the request head is over MAX_HEAD_BYTES."""


def raw_json_response(status: int, code: str, message: str, headers: dict | None = None) -> bytes:
    """A complete HTTP/1.1 response carrying the JSON error shape; the connection closes."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = [
        b"HTTP/1.1 %d %s" % (status, REASONS[status]),
        b"content-type: application/json",
        b"content-length: %d" % len(body),
        b"connection: close",
        *(f"{k}: {v}".encode("latin-1") for k, v in (headers or {}).items()),
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def guarded_protocol(limits: ServeLimits) -> type[HttpToolsProtocol]:
    """A protocol class for `uvicorn.Config(http=...)` enforcing `limits`' read deadlines and
    connection cap; each call has its own per-client count (one per server)."""
    open_per_client: Counter[str] = Counter()

    class GuardedHttpProtocol(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._deadline: Any = None
            self._counted: str | None = None
            self._got_bytes = False
            self._head_size = 0  # bytes of request line + headers of the current request

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            host = self.client[0] if self.client else "-"
            open_per_client[host] += 1
            self._counted = host
            if open_per_client[host] > limits.http_connections_per_client:
                message = (
                    f"{host} has more than {limits.http_connections_per_client} open "
                    "connections (--http-connections-per-client)"
                )
                retry = {"retry-after": str(limits.retry_after_s)}
                transport.write(raw_json_response(503, "too_many_connections", message, retry))
                transport.close()
                return
            self._arm(limits.header_timeout_s, "headers")

        def connection_lost(self, exc: Exception | None) -> None:
            self._release()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            self._got_bytes = self._got_bytes or bool(data)
            super().data_received(data)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_size = 0
            if self._deadline is None:
                self._arm(limits.header_timeout_s, "headers")

        def on_url(self, url: bytes) -> None:
            self._count_head(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count_head(len(name) + len(value))
            super().on_header(name, value)

        def _count_head(self, size: int) -> None:
            self._head_size += size
            if self._head_size > MAX_HEAD_BYTES:
                raise HeadTooLarge  # stops the parser; answered in send_400_response

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()
            if not (self.parser.should_upgrade() and self._should_upgrade()):
                self._arm(limits.body_timeout_s, "body")

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        def handle_websocket_upgrade(self) -> None:
            self._release()  # the stream's own limits take over
            super().handle_websocket_upgrade()

        def send_400_response(self, msg: str) -> None:
            if self._head_size > MAX_HEAD_BYTES:
                message = f"the request line and headers are over {MAX_HEAD_BYTES} bytes"
                self._refuse(431, "headers_too_large", message)
            else:
                self._refuse(400, "invalid_http", f"malformed HTTP request: {msg}")

        def _refuse(self, status: int, code: str, message: str) -> None:
            self._disarm()
            if not self.transport.is_closing():
                self.transport.write(raw_json_response(status, code, message))
                self.transport.close()

        # -- deadlines ----------------------------------------------------------------------

        def _arm(self, seconds: float, part: str) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._expired, seconds, part)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self, seconds: float, part: str) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            cycle = self.cycle
            answering = cycle is not None and cycle.response_started
            if answering and part == "headers":  # a previous request's answer
                answering = not cycle.response_complete
            if self._got_bytes and not answering:
                flag = f"--{part[:-1] if part == 'headers' else part}-timeout-s"
                message = f"the request {part} did not arrive within {seconds:g} s ({flag})"
                self.transport.write(raw_json_response(408, "request_timeout", message))
            self.transport.close()

        def _release(self) -> None:
            self._disarm()
            if self._counted is not None:
                open_per_client[self._counted] -= 1
                if open_per_client[self._counted] <= 0:
                    del open_per_client[self._counted]
                self._counted = None

    return GuardedHttpProtocol
