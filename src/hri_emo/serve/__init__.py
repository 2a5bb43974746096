"""Serving: HTTP + streaming WebSocket API, the live page, limits (`hri-emo serve`)."""

from hri_emo.serve.settings import ServeSettings

__all__ = ["ServeSettings", "create_app"]


def __getattr__(name: str):
    if name == "create_app":  # imports FastAPI and torch: only when asked for
        from hri_emo.serve.app import create_app

        return create_app
    raise AttributeError(name)
