"""`hri-emo serve --processes N`: N server processes behind one port (uvicorn's workers).

uvicorn binds the port once and starts N worker processes that accept on the same socket; each
builds the app with `app_from_env` (settings handed over as JSON in an environment variable),
loads its own copy of the model and warms it up. Every worker is a full, stateless replica:
an HTTP request may land on any of them, a WebSocket stream stays on the worker that accepted
it. `ReplicaReadiness` wraps each worker's app so that GET /readyz answers 200 only once every
worker has finished its warm-up: each worker drops `<pid>.json` (with its resident memory)
into a shared folder when its lifespan startup completes, and /readyz counts the live ones.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Any

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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ReplicaReadiness:
    """ASGI wrapper: marks this worker ready after its lifespan startup, and answers GET /readyz
    with 503 until `processes` live workers are ready (then the app's own /readyz answers)."""

    def __init__(self, app: Any, ready_dir: Path, processes: int) -> None:
        self.app, self.ready_dir, self.processes = app, ready_dir, processes

    def ready_workers(self) -> list[dict[str, Any]]:
        workers = []
        for path in self.ready_dir.glob("*.json"):
            try:
                info = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError):
                continue  # being written
            if _alive(info["pid"]):
                workers.append(info)
        return workers

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._lifespan_send(send))
        elif scope["type"] == "http" and scope["path"] == "/readyz" and not self._all_ready():
            await self._not_ready(send)
        else:
            await self.app(scope, receive, send)

    def _all_ready(self) -> bool:
        return len(self.ready_workers()) >= self.processes

    def _lifespan_send(self, send: Any) -> Any:
        async def wrapped(message: dict) -> None:
            if message["type"] == "lifespan.startup.complete":
                self._mark_ready()
            elif message["type"] == "lifespan.shutdown.complete":
                (self.ready_dir / f"{os.getpid()}.json").unlink(missing_ok=True)
            await send(message)

        return wrapped

    def _mark_ready(self) -> None:
        pid, memory = os.getpid(), rss_mib(os.getpid())
        tmp = self.ready_dir / f"{pid}.tmp"
        tmp.write_text(json.dumps({"pid": pid, "rss_mib": memory}))
        os.replace(tmp, self.ready_dir / f"{pid}.json")
        log.info("worker %d ready (resident memory %.0f MiB)", pid, memory or float("nan"))

    async def _not_ready(self, send: Any) -> None:
        ready = len(self.ready_workers())
        body = json.dumps({"status": "loading", "workers_ready": ready, "workers": self.processes})
        headers = [(b"content-type", b"application/json"), (b"retry-after", b"1")]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body.encode()})


def app_from_env() -> Any:
    """uvicorn's app factory in each worker process."""
    from hri_emo.serve.app import create_app

    settings = settings_from_env(os.environ[SETTINGS_ENV])
    ready_dir = Path(os.environ[READY_DIR_ENV])
    return ReplicaReadiness(create_app(settings), ready_dir, int(os.environ[PROCESSES_ENV]))


def run_replicas(settings: ServeSettings, processes: int, options: dict[str, Any]) -> None:
    """Serve with `processes` uvicorn workers on one port (blocks until shut down)."""
    import tempfile

    import uvicorn

    with tempfile.TemporaryDirectory(prefix="hri-emo-ready-") as ready_dir:
        os.environ[SETTINGS_ENV] = settings_to_env(settings)
        os.environ[READY_DIR_ENV] = ready_dir
        os.environ[PROCESSES_ENV] = str(processes)
        uvicorn.run(
            "hri_emo.serve.replicas:app_from_env", factory=True, workers=processes, **options
        )
