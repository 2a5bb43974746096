"""`ServeSettings`: what `hri-emo serve` was asked for (model, address, security, limits)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from hri_emo.errors import ConfigError
from hri_emo.inference.asr import check_asr_choice
from hri_emo.inference.vad import VAD_NAMES
from hri_emo.serve.limits import ServeLimits

TOKEN_ENV = "HRI_EMO_TOKEN"
LOOPBACK_NAMES = ("localhost",)


@dataclass
class ServeSettings:
    model: Path | None = None  # run, checkpoint or save_pretrained folder
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None  # API token; required to bind a non-loopback address
    cors_origins: list[str] = field(default_factory=list)  # closed by default
    backend: str = "torch"  # or "onnxruntime" (when the build has it)
    asr: str = "auto"  # transcribe when no transcript is sent ("none": never)
    vad: str = "silero"
    torch_threads: int = 2
    graceful_timeout_s: float = 30.0  # SIGTERM: how long requests in flight may finish
    limits: ServeLimits = field(default_factory=ServeLimits)

    @classmethod
    def with_env_token(cls, **kwargs) -> ServeSettings:
        """Settings whose token falls back to $HRI_EMO_TOKEN."""
        if not kwargs.get("token"):
            kwargs["token"] = os.environ.get(TOKEN_ENV) or None
        return cls(**kwargs)

    def validate(self) -> None:
        self.limits.validate()
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise ConfigError(f"port must be an integer, got {self.port!r}")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} is not a TCP port (expected 1-65535)")
        check_asr_choice(self.asr, "asr")
        if self.vad not in VAD_NAMES:
            raise ConfigError(f"vad {self.vad!r}: choose one of {', '.join(VAD_NAMES)}")
        if self.torch_threads < 1:
            raise ConfigError(f"torch_threads must be >= 1, got {self.torch_threads}")
        if self.token is not None and len(self.token) < 16:
            raise ConfigError("the API token must be at least 16 characters")
        if not is_loopback(self.host) and not self.token:
            raise ConfigError(
                f"binding {self.host} exposes the server beyond this machine: give an API token "
                f"(--token or ${TOKEN_ENV}, at least 16 characters), or bind 127.0.0.1"
            )


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
