"""The server's limits and the pieces that enforce them.

- `ServeLimits`: every limit, each a CLI flag of `hri-emo serve` (docs/serving.md lists them).
- `InferenceGate`: bounded concurrent inference. `workers` threads run the model; up to
  `queue_size` more requests wait. HTTP requests beyond that are refused at once (503 +
  Retry-After); stream utterances wait for a slot (their own buffer bounds them).
- `BodyLimitMiddleware`: refuses bodies over `max_body_bytes` (413) before any parsing.
- `ConnectionCounter`: WebSocket connections per client address.
- Dialogue sessions (`max_sessions`, `sessions_per_client`, `session_idle_s`): serve/sessions.py.
Read deadlines and the HTTP connection cap are enforced in `hri_emo.serve.protocol`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from hri_emo.errors import ConfigError

T = TypeVar("T")


@dataclass
class ServeLimits:
    max_body_bytes: int = 10 * 1024 * 1024  # HTTP request body
    max_audio_s: float = 30.0  # one /v1/predict recording
    max_text_chars: int = 2000  # one transcript
    request_timeout_s: float = 30.0  # waiting + inference of one request
    workers: int = 1  # inference threads
    queue_size: int = 8  # requests waiting for a worker before 503
    retry_after_s: int = 1  # the Retry-After header of a 503
    ws_max_message_bytes: int = 1024 * 1024  # one WebSocket message
    ws_connections_per_client: int = 8  # concurrent streams from one address
    max_utterance_s: float = 15.0  # a stream utterance is cut here
    stream_buffer_s: float = 30.0  # unanswered audio a stream may hold
    header_timeout_s: float = 10.0  # a request's headers must arrive within this
    body_timeout_s: float = 30.0  # a request's body must arrive within this after its headers
    keep_alive_s: float = 5.0  # an idle keep-alive connection is closed after this
    http_connections_per_client: int = 32  # open HTTP connections from one address
    max_sessions: int = 256  # live dialogue sessions (POST /v1/sessions) in all
    sessions_per_client: int = 16  # live sessions created from one address
    session_idle_s: float = 600.0  # a session unused for this long is forgotten

    def validate(self) -> None:
        for name, value in asdict(self).items():
            if value <= 0 and name != "queue_size":
                raise ConfigError(f"limit {name} must be > 0, got {value}")
        if self.queue_size < 0:
            raise ConfigError(f"limit queue_size must be >= 0, got {self.queue_size}")
        if self.max_utterance_s > self.stream_buffer_s:
            raise ConfigError(
                f"max_utterance_s ({self.max_utterance_s}) must not exceed stream_buffer_s "
                f"({self.stream_buffer_s}): a whole utterance has to fit in the buffer"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class QueueFullError(Exception):
    """Every worker is busy and the queue is full."""


class InferenceGate:
    """`workers` inference threads behind a bounded queue; runs blocking model calls."""

    def __init__(self, workers: int, queue_size: int) -> None:
        self.capacity = workers + queue_size
        self._in_system = 0  # running + waiting
        self._slots: asyncio.Semaphore | None = None
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="hri-emo-inference"
        )

    @property
    def busy(self) -> int:
        return self._in_system

    async def run(self, func: Callable[[], T], *, wait: bool = False) -> tuple[T, float]:
        """Run `func` in a worker thread; returns (its result, ms spent waiting for a worker).

        `wait=False`: raise QueueFullError when the queue is full; `wait=True`: wait for room.
        The slot is held until the thread finishes, even when the caller stops waiting."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.capacity)
        if not wait and self._slots.locked():
            raise QueueFullError
        await self._slots.acquire()
        self._in_system += 1
        queued = time.perf_counter()
        started: list[float] = []

        def timed() -> T:
            started.append(time.perf_counter())
            return func()

        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, timed)
        future.add_done_callback(lambda _: self._release())
        result = await asyncio.shield(future)
        return result, 1000 * (started[0] - queued)

    def _release(self) -> None:
        self._in_system -= 1
        assert self._slots is not None
        self._slots.release()

    def shutdown(self) -> None:
        """Finish the running calls, then stop the threads."""
        self._executor.shutdown(wait=True, cancel_futures=False)


class ConnectionCounter:
    """Open WebSocket connections per client address."""

    def __init__(self, per_client: int) -> None:
        self.per_client = per_client
        self._open: Counter[str] = Counter()

    def try_open(self, client: str) -> bool:
        if self._open[client] >= self.per_client:
            return False
        self._open[client] += 1
        return True

    def close(self, client: str) -> None:
        self._open[client] -= 1
        if self._open[client] <= 0:
            del self._open[client]


class BodyLimitMiddleware:
    """ASGI middleware: an HTTP body over `max_bytes` gets 413 and never reaches the app.

    The body (at most `max_bytes`) is read here and replayed to the app, so a chunked upload
    without Content-Length is cut as soon as it passes the limit."""

    def __init__(self, app: Any, max_bytes: int, error: Callable[..., Any]) -> None:
        self.app, self.max_bytes, self.error = app, max_bytes, error

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send, declared.decode("latin-1"))
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send, f"more than {size}")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: dict, receive: Callable, send: Callable, size: str) -> None:
        message = f"request body of {size} bytes is over the limit of {self.max_bytes} bytes"
        request_id = scope.get("state", {}).get("request_id")
        response = self.error(
            413, "body_too_large", message + " (--max-body-bytes)", request_id=request_id
        )
        await response(scope, receive, send)
