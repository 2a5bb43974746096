"""`create_app(settings)`: the FastAPI application of `hri-emo serve`.

    app = create_app(ServeSettings(model=Path("runs/my-run")))
    uvicorn.run(app, **uvicorn_options(settings))

The lifespan loads the recognizer once and warms it up (GET /readyz answers 200 after that);
its shutdown waits for the inference threads. Middleware, outermost first: request id +
access log, Origin check (own page and allowed origins only), CORS (closed unless origins are
given), API token (when set), body size limit. uvicorn runs `guarded_protocol`: read deadlines
and a per-client connection cap.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import torch
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

import hri_emo
from hri_emo.inference import EmotionRecognizer
from hri_emo.inference.vad import create_vad
from hri_emo.serve.engine import InferenceEngine, load_recognizer
from hri_emo.serve.guards import OriginMiddleware, install_secret_filter
from hri_emo.serve.http_errors import error_response, install_error_handlers
from hri_emo.serve.limits import BodyLimitMiddleware, ConnectionCounter
from hri_emo.serve.middleware import RequestContextMiddleware, TokenAuthMiddleware
from hri_emo.serve.protocol import guarded_protocol
from hri_emo.serve.routes import health, page, predict, sessions, stream
from hri_emo.serve.sessions import SessionStore
from hri_emo.serve.settings import ServeSettings, is_loopback

log = logging.getLogger(__name__)


def create_app(
    settings: ServeSettings,
    recognizer: EmotionRecognizer | None = None,
    *,
    engine: InferenceEngine | None = None,
) -> FastAPI:
    """The app; `recognizer`: an already loaded one (else loaded from `settings.model`);
    `engine`: an already warmed-up engine (`hri_emo.serve.launch` makes one before uvicorn
    starts, so start-up failures are one line, not a lifespan traceback)."""
    settings.validate()
    install_secret_filter()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        torch.set_num_threads(settings.torch_threads)
        ready = engine or InferenceEngine(recognizer or load_recognizer(settings), settings)
        app.state.engine = ready
        create_vad(settings.vad)  # load the detector's model before the first stream
        if not ready.ready:
            ready.warm_up()
        log.info("model ready; serving on %s:%s", settings.host, settings.port)
        yield
        log.info("shutting down: waiting for inference in flight")
        ready.gate.shutdown()

    app = FastAPI(
        title="HRI-EMO",
        version=hri_emo.__version__,
        summary="Emotions from speech and transcript, with the reason, for robots.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.connections = ConnectionCounter(settings.limits.ws_connections_per_client)
    install_error_handlers(app)
    app.state.sessions = SessionStore(settings.limits)
    for router in (health.router, predict.router, sessions.router, stream.router, page.router):
        app.include_router(router)
    app.mount("/static", page.static_files(), name="static")
    _add_middleware(app, settings)
    return app


def _add_middleware(app: FastAPI, settings: ServeSettings) -> None:
    """Added innermost first (Starlette wraps each new one around the previous ones)."""
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.limits.max_body_bytes, error=error_response
    )
    if settings.token:
        app.add_middleware(TokenAuthMiddleware, token=settings.token, error=error_response)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Token", "X-Request-ID"],
        )
    app.add_middleware(
        OriginMiddleware,
        allowed=settings.cors_origins,
        public_bind=not is_loopback(settings.host),
        error=error_response,
    )
    app.add_middleware(RequestContextMiddleware)


def uvicorn_options(settings: ServeSettings) -> dict[str, Any]:
    """Keyword arguments of uvicorn.Config / uvicorn.run for these settings."""
    return {
        "host": settings.host,
        "port": settings.port,
        "access_log": False,  # RequestContextMiddleware writes structured access lines
        "http": guarded_protocol(settings.limits),  # read deadlines, per-client cap
        "timeout_keep_alive": settings.limits.keep_alive_s,
        "timeout_graceful_shutdown": settings.graceful_timeout_s,
        # the app refuses messages over the limit with a JSON error; uvicorn's own cap
        # (which closes with 1009 unexplained) only stops ones far beyond it
        "ws_max_size": 4 * settings.limits.ws_max_message_bytes,
        "ws_ping_interval": 20.0,
        "ws_ping_timeout": 20.0,
        "log_level": "info",
    }
