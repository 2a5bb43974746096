"""GET /healthz (alive), GET /readyz (model loaded and warmed up), GET /v1/model."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hri_emo.serve.schemas import ERROR_RESPONSES, HealthResponse, ModelInfo

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthResponse, summary="the process is alive")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=HealthResponse,
    summary="the model is loaded and warmed up",
    responses={503: {"model": HealthResponse, "description": "still loading"}},
)
async def readyz(request: Request) -> JSONResponse:
    engine = getattr(request.app.state, "engine", None)
    if engine is None or not engine.ready:
        return JSONResponse({"status": "loading"}, status_code=503, headers={"Retry-After": "1"})
    replicas = getattr(request.app.state, "replicas", None)  # `serve --processes N`: all N
    if replicas is not None and not replicas.all_ready():
        return JSONResponse(replicas.status(), status_code=503, headers={"Retry-After": "1"})
    return JSONResponse({"status": "ready"})


@router.get(
    "/v1/model",
    response_model=ModelInfo,
    summary="labels, task, encoders, versions, thresholds and limits",
    responses={401: ERROR_RESPONSES[401]},
)
async def model_info(request: Request) -> dict:
    return request.app.state.engine.info()
