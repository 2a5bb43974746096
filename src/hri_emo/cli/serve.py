"""`hri-emo serve MODEL`: the HTTP + WebSocket server (FastAPI + uvicorn), loopback by default."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

LIMIT_HELP = {
    "max_body_bytes": "largest HTTP request body",
    "max_audio_s": "longest recording of one /v1/predict request",
    "max_text_chars": "longest transcript",
    "request_timeout_s": "time a request may wait for and run inference (then 504)",
    "workers": "inference threads",
    "queue_size": "requests waiting for a worker before 503 + Retry-After",
    "retry_after_s": "Retry-After of a 503",
    "ws_max_message_bytes": "largest WebSocket message",
    "ws_connections_per_client": "open streams per client address",
    "max_utterance_s": "a stream utterance is cut at this length",
    "stream_buffer_s": "unanswered audio a stream may hold before audio is dropped",
    "header_timeout_s": "a request's headers must arrive within this (then 408, closed)",
    "body_timeout_s": "a request's body must arrive within this after its headers (408)",
    "keep_alive_s": "an idle keep-alive connection is closed after this",
    "http_connections_per_client": "open HTTP connections per client address (then 503)",
    "max_sessions": "live dialogue sessions in all (POST /v1/sessions; then 503)",
    "sessions_per_client": "live dialogue sessions created from one client address (then 429)",
    "session_idle_s": "a dialogue session unused for this long is forgotten (then 404)",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    from hri_emo.inference.vad import VAD_NAMES
    from hri_emo.serve.limits import ServeLimits
    from hri_emo.serve.settings import TOKEN_ENV, ServeSettings

    parser = subparsers.add_parser(
        "serve",
        help="serve a model over HTTP and WebSocket, with a live page at /",
        description=(
            "POST /v1/predict, WS /v1/stream, GET /healthz /readyz /v1/model, the live page at "
            "/ and the OpenAPI schema at /docs. Binds 127.0.0.1 unless --host says otherwise; "
            f"another address needs an API token (--token or ${TOKEN_ENV})."
        ),
    )
    base = ServeSettings()  # every default below is the settings' own
    parser.add_argument("model", type=Path, help="run, checkpoint or save_pretrained folder")
    parser.add_argument("--host", default=base.host, help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=base.port, help="1-65535")
    parser.add_argument(
        "--token",
        default=None,
        help=f"API token (default ${TOKEN_ENV}); needed on every route but /healthz",
    )
    parser.add_argument(
        "--allow-origin",
        "--cors-origin",
        dest="cors_origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser origin (https://host[:port]) allowed to open the stream, POST and read "
        "answers, besides the server's own page (repeatable; default: none)",
    )
    parser.add_argument("--backend", default=base.backend, help="torch or onnxruntime")
    parser.add_argument(
        "--asr",
        default=base.asr,
        help="transcribe audio sent without text: auto, none, or an ASR name/path",
    )
    parser.add_argument("--vad", default=base.vad, choices=VAD_NAMES, help="stream segmenter")
    parser.add_argument("--torch-threads", type=int, default=base.torch_threads)
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="server processes behind the one port, each a full replica with its own model "
        "(--workers is the inference threads of each); /readyz waits for all of them",
    )
    parser.add_argument(
        "--graceful-timeout-s",
        type=float,
        default=base.graceful_timeout_s,
        help="on SIGTERM, how long requests in flight may finish",
    )
    defaults = base.limits
    for f in fields(ServeLimits):
        parser.add_argument(
            f"--{f.name.replace('_', '-')}",
            type=type(getattr(defaults, f.name)),
            default=getattr(defaults, f.name),
            help=f"{LIMIT_HELP[f.name]} (default %(default)s)",
        )
    parser.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from hri_emo.errors import ConfigError
    from hri_emo.serve.launch import run_server
    from hri_emo.serve.limits import ServeLimits
    from hri_emo.serve.settings import ServeSettings

    limits = ServeLimits(**{f.name: getattr(args, f.name) for f in fields(ServeLimits)})
    settings = ServeSettings.with_env_token(
        model=args.model,
        host=args.host,
        port=args.port,
        token=args.token,
        cors_origins=list(args.cors_origin),
        backend=args.backend,
        asr=args.asr,
        vad=args.vad,
        torch_threads=args.torch_threads,
        graceful_timeout_s=args.graceful_timeout_s,
        limits=limits,
    )
    if args.processes < 1:
        raise ConfigError(f"--processes must be >= 1, got {args.processes}")
    if args.processes > 1:  # N worker processes behind one port (serve/replicas.py)
        from hri_emo.serve.app import uvicorn_options
        from hri_emo.serve.replicas import run_replicas

        settings.validate()  # refuse a public bind without a token before loading anything
        run_replicas(settings, args.processes, uvicorn_options(settings))
        return 0
    run_server(settings)  # validate, bind, load and warm up: each failure is one line
    return 0
