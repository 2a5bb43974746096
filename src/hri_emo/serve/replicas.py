"""`hri-emo serve --processes N`: N server processes behind one port (uvicorn's workers).

uvicorn binds the port once and starts N worker processes that accept on the same socket; each
builds the app with `app_from_env` (settings handed over as JSON in an environment variable),
loads its own copy of the model and warms it up. Every worker is a full, stateless replica:
an HTTP request may land on any of them, a WebSocket stream stays on the worker that accepted
it. GET /readyz answers 200 only once every worker has finished its warm-up: each worker drops
`<pid>.json` (with its resident memory) into a shared folder when its lifespan startup
completes (`ReplicaReadiness`), and /readyz counts the live ones.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Any

from hri_emo.checkpoint.run_status import process_alive
from hri_emo.serve.limits import ServeLimits
from hri_emo.serve.settings import ServeSettings

log = logging.getLogger("uvicorn.error")  # configured in every worker by uvicorn
SETTINGS_ENV = "HRI_EMO_SERVE_SETTINGS"
READY_DIR_ENV = "HRI_EMO_SERVE_READY_DIR"
PROCESSES_ENV = "HRI_EMO_SERVE_PROCESSES"


def settings_to_env(settings: ServeSettings) -> str:
    data = dataclasses.asdict(settings)
    data["model"] = None if settings.model is None else str(settings.model)
    return json.dumps(data)


def settings_from_env(text: str) -> ServeSettings:
    data = json.loads(text)
    data["limits"] = ServeLimits(**data["limits"])
    data["model"] = None if data["model"] is None else Path(data["model"])
    return ServeSettings(**data)


def rss_mib(pid: int) -> float | None:
    """Resident memory of a process in MiB (Linux /proc), None where unavailable."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


class ReplicaReadiness:
    """Readiness of the `processes` workers: each marks itself ready once its lifespan startup
    (model load and warm-up) completes; GET /readyz asks `all_ready()` (behind the token, like
    every route but /healthz)."""

    def __init__(self, ready_dir: Path, processes: int) -> None:
        self.ready_dir, self.processes = ready_dir, processes

    def ready_workers(self) -> list[dict[str, Any]]:
        workers = []
        for path in self.ready_dir.glob("*.json"):
            try:
                info = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError):
                continue  # being written
            if process_alive(info["pid"]):
                workers.append(info)
        return workers

    def all_ready(self) -> bool:
        return len(self.ready_workers()) >= self.processes

    def status(self) -> dict[str, Any]:
        ready = len(self.ready_workers())
        return {"status": "loading", "workers_ready": ready, "workers": self.processes}

    def wrap(self, app: Any) -> Any:
        """The ASGI app, marking this worker ready (and unready at shutdown) from its lifespan."""

        async def wrapped(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] != "lifespan":
                return await app(scope, receive, send)

            async def lifespan_send(message: dict) -> None:
                if message["type"] == "lifespan.startup.complete":
                    self._mark_ready()
                elif message["type"] == "lifespan.shutdown.complete":
                    (self.ready_dir / f"{os.getpid()}.json").unlink(missing_ok=True)
                await send(message)

            return await app(scope, receive, lifespan_send)

        return wrapped

    def _mark_ready(self) -> None:
        pid, memory = os.getpid(), rss_mib(os.getpid())
        tmp = self.ready_dir / f"{pid}.tmp"
        tmp.write_text(json.dumps({"pid": pid, "rss_mib": memory}))
        os.replace(tmp, self.ready_dir / f"{pid}.json")
        log.info("worker %d ready (resident memory %.0f MiB)", pid, memory or float("nan"))


def app_from_env() -> Any:
    """uvicorn's app factory in each worker process."""
    from hri_emo.serve.app import create_app

    settings = settings_from_env(os.environ[SETTINGS_ENV])
    readiness = ReplicaReadiness(Path(os.environ[READY_DIR_ENV]), int(os.environ[PROCESSES_ENV]))
    app = create_app(settings)
    app.state.replicas = readiness  # GET /readyz waits for every worker
    return readiness.wrap(app)


_replica_protocol: Any = None


def replica_http_protocol(*args: Any, **kwargs: Any) -> Any:
    """uvicorn's HTTP protocol in a replica: the guarded protocol (read deadlines, per-client
    cap) for the limits the parent put in the environment. The parent's own protocol class is
    made in a closure and cannot be pickled to a spawned worker, so each worker builds its own
    from this importable name."""
    global _replica_protocol
    if _replica_protocol is None:
        from hri_emo.serve.protocol import guarded_protocol

        limits = settings_from_env(os.environ[SETTINGS_ENV]).limits
        _replica_protocol = guarded_protocol(limits)
    return _replica_protocol(*args, **kwargs)


def run_replicas(settings: ServeSettings, processes: int, options: dict[str, Any]) -> None:
    """Serve with `processes` uvicorn workers on one port (blocks until shut down)."""
    import tempfile

    import uvicorn

    with tempfile.TemporaryDirectory(prefix="hri-emo-ready-") as ready_dir:
        os.environ[SETTINGS_ENV] = settings_to_env(settings)
        os.environ[READY_DIR_ENV] = ready_dir
        os.environ[PROCESSES_ENV] = str(processes)
        options = {**options, "http": "hri_emo.serve.replicas:replica_http_protocol"}
        uvicorn.run(
            "hri_emo.serve.replicas:app_from_env", factory=True, workers=processes, **options
        )
