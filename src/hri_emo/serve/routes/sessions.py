"""POST /v1/sessions, DELETE /v1/sessions/{id}: dialogue sessions (serve/sessions.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hri_emo.serve.http_errors import ApiError
from hri_emo.serve.schemas import ERROR_RESPONSES, SessionResponse

router = APIRouter(tags=["sessions"])


def _client(request: Request) -> str:
    return request.client.host if request.client else "-"


@router.post(
    "/v1/sessions",
    summary="start a dialogue: /v1/predict with its id reads the last turns as context",
    status_code=201,
    response_model=SessionResponse,
    responses={k: ERROR_RESPONSES[k] for k in (401, 429, 501, 503)},
)
async def create_session(request: Request) -> SessionResponse:
    replicas = getattr(request.app.state, "replicas", None)  # hri-emo serve --processes N
    if replicas is not None and replicas.processes > 1:
        raise ApiError(
            501,
            "sessions_unavailable",
            f"dialogue sessions live in one process, and this server runs {replicas.processes} "
            "(--processes): a later request could reach another one. Use the WebSocket stream "
            "(one dialogue per connection), or serve with --processes 1",
        )
    dialogue = request.app.state.engine.recognizer.dialogue()
    session = request.app.state.sessions.create(_client(request), dialogue)
    return SessionResponse(
        session=session,
        context_turns=dialogue.max_turns,
        idle_timeout_s=request.app.state.settings.limits.session_idle_s,
        note=dialogue.unused_reason,
    )


@router.delete(
    "/v1/sessions/{session}",
    summary="end a dialogue session (its turns are forgotten)",
    status_code=204,
    responses={k: ERROR_RESPONSES[k] for k in (401, 404)},
)
async def delete_session(session: str, request: Request) -> Response:
    request.app.state.sessions.delete(session, _client(request))
    return Response(status_code=204)
