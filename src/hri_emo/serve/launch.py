"""`run_server(settings)`: what `hri-emo serve` does, in the order that fails fast and in one line.

1. validate the settings (port 1-65535, token, limits) — nothing loaded yet;
2. bind the port (a taken port is one line, before the model loads);
3. load the model and warm it up (a wrong dimension, truncated weights, a bad config, a missing
   path or an unknown backend is one line: an HriEmoError the CLI prints);
4. run uvicorn on the bound socket (SIGTERM drains requests in flight).
"""

from __future__ import annotations

import errno
import logging
import socket

from hri_emo.errors import ConfigError, HriEmoError
from hri_emo.serve.settings import ServeSettings

log = logging.getLogger(__name__)


def run_server(settings: ServeSettings) -> None:
    settings.validate()
    sock = bind(settings.host, settings.port)
    try:  # the heavy imports come after the cheap checks
        if settings.model is not None and not settings.model.exists():
            raise ConfigError(f"{settings.model} is not a trained model: the path does not exist")
        import torch
        import uvicorn

        from hri_emo.serve.app import create_app, uvicorn_options
        from hri_emo.serve.engine import InferenceEngine, load_recognizer

        torch.set_num_threads(settings.torch_threads)
        engine = InferenceEngine(load_recognizer(settings), settings)
        warm_up(engine)
        options = uvicorn_options(settings)
        options.pop("host"), options.pop("port")
        server = uvicorn.Server(uvicorn.Config(create_app(settings, engine=engine), **options))
        server.run(sockets=[sock])
    finally:
        sock.close()


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port), or a ConfigError that says why not in one line."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as err:
        raise ConfigError(f"--host {host}: not an address of this machine ({err})") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as err:
        sock.close()
        in_use = err.errno == errno.EADDRINUSE
        reason = "the port is already in use (another server?)" if in_use else err.strerror
        raise ConfigError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.set_inheritable(True)
    return sock


def warm_up(engine: object) -> None:
    """The engine's warm-up; any failure is one line naming what went wrong."""
    try:
        seconds = engine.warm_up()  # type: ignore[attr-defined]
    except HriEmoError:
        raise
    except (RuntimeError, OSError) as err:
        raise ConfigError(f"the model failed its warm-up: {type(err).__name__}: {err}") from err
    log.info("model warmed up in %.1f s", seconds)
