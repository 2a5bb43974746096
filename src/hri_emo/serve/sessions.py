"""Dialogue sessions: the recognizer's `Dialogue` (inference/dialogue.py) kept per session id.

POST /v1/sessions creates one; /v1/predict with its `session` reads the last turns as context
and appends the new one; DELETE /v1/sessions/{id} ends it. Hostile-input rules: ids are
unguessable (`secrets.token_urlsafe`, 192 bits), a session answers only the client address that
created it (any other gets the same 404 as an unknown id, so ids cannot be probed), at most
`max_sessions` live in all and `sessions_per_client` per address, and one unused for
`session_idle_s` is forgotten. Each session holds at most k pooled text vectors. The store is
used from the event loop only; a Dialogue serialises its own turns.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from hri_emo.inference.dialogue import Dialogue
from hri_emo.serve.http_errors import ApiError
from hri_emo.serve.limits import ServeLimits


@dataclass
class Session:
    dialogue: Dialogue
    client: str
    used: float  # clock time of the last use


class SessionStore:
    """Live sessions by id, bounded in number and idle time."""

    def __init__(self, limits: ServeLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits, self.clock = limits, clock
        self._sessions: dict[str, Session] = {}

    def __len__(self) -> int:
        self._expire()
        return len(self._sessions)

    def create(self, client: str, dialogue: Dialogue) -> str:
        """A new session id for `client`; 503 when the server is full, 429 when the client
        has its share."""
        self._expire()
        limits = self.limits
        mine = Counter(s.client for s in self._sessions.values())[client]
        if mine >= limits.sessions_per_client:
            raise ApiError(
                429,
                "too_many_sessions",
                f"{client} already has {mine} live sessions (--sessions-per-client): end one "
                "with DELETE /v1/sessions/{id}, or let it expire "
                f"({limits.session_idle_s:g} s idle, --session-idle-s)",
            )
        if len(self._sessions) >= limits.max_sessions:
            raise ApiError(
                503,
                "sessions_full",
                f"all {limits.max_sessions} dialogue sessions are in use (--max-sessions); "
                "retry later",
                headers={"Retry-After": str(limits.retry_after_s)},
            )
        session_id = secrets.token_urlsafe(24)
        self._sessions[session_id] = Session(dialogue, client, self.clock())
        return session_id

    def get(self, session_id: str, client: str) -> Dialogue:
        """The session's dialogue (and it counts as used); 404 when unknown, expired, or
        created by another client."""
        session = self._find(session_id, client)
        session.used = self.clock()
        return session.dialogue

    def delete(self, session_id: str, client: str) -> None:
        self._find(session_id, client)
        del self._sessions[session_id]

    def _find(self, session_id: str, client: str) -> Session:
        self._expire()
        session = self._sessions.get(session_id)
        if session is None or session.client != client:
            raise ApiError(
                404,
                "unknown_session",
                "no such dialogue session: it was never created here, was deleted, or expired "
                f"after {self.limits.session_idle_s:g} s unused (--session-idle-s); "
                "create one with POST /v1/sessions",
            )
        return session

    def _expire(self) -> None:
        cutoff = self.clock() - self.limits.session_idle_s
        for session_id in [k for k, s in self._sessions.items() if s.used < cutoff]:
            del self._sessions[session_id]
