"""WS /v1/stream: the robot stream (protocol in hri_emo.serve.stream)."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from hri_emo.serve.middleware import STREAM_SUBPROTOCOL
from hri_emo.serve.stream import CLOSE_POLICY, StreamSession

router = APIRouter(tags=["stream"])


@router.websocket("/v1/stream")
async def stream(websocket: WebSocket) -> None:
    state = websocket.app.state
    client = websocket.client.host if websocket.client else "-"
    offered = websocket.scope.get("subprotocols", ())
    subprotocol = STREAM_SUBPROTOCOL if STREAM_SUBPROTOCOL in offered else None
    if not state.connections.try_open(client):
        await websocket.accept(subprotocol=subprotocol)
        limit = state.connections.per_client
        await websocket.send_json(
            {
                "type": "error",
                "code": "too_many_connections",
                "message": f"{client} already has {limit} open streams "
                "(--ws-connections-per-client)",
            }
        )
        await websocket.close(CLOSE_POLICY, reason="too_many_connections")
        return
    try:
        await websocket.accept(subprotocol=subprotocol)
        request_id = websocket.scope.get("state", {}).get("request_id", "")
        await StreamSession(websocket, state.engine, request_id).run()
    finally:
        state.connections.close(client)
