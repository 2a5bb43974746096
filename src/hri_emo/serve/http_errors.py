"""One JSON error shape for every refused request: 4xx with a code and a message that names
the problem; 5xx only for the server's own state (not ready, busy, timed out).

    {"error": {"code": "invalid_base64", "message": "audio_base64: ...", "details": [...]},
     "request_id": "3f2a..."}
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hri_emo.errors import HriEmoError


class ApiError(Exception):
    """A request the server refuses: HTTP status, a stable code and a message for people."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details, headers


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    request_id: str | None = None,
    details: list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, headers=headers)


def validation_details(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """A one-line summary and JSON-safe details of pydantic errors."""
    details = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        details.append({"field": where, "problem": str(error.get("msg", "invalid"))})
    summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:5])
    return summary or "invalid request", details


def install_error_handlers(app: FastAPI) -> None:
    """Turn every refusal into the JSON error shape (never an HTML page, never a traceback)."""

    def request_id(request: Request) -> str | None:
        return getattr(request.state, "request_id", None)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, err: ApiError) -> JSONResponse:
        return error_response(
            err.status,
            err.code,
            err.message,
            request_id=request_id(request),
            details=err.details,
            headers=err.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        summary, details = validation_details(list(err.errors()))
        return error_response(
            422, "invalid_request", summary, request_id=request_id(request), details=details
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.status_code, "http_error")
        return error_response(
            err.status_code,
            code,
            str(err.detail),
            request_id=request_id(request),
            headers=err.headers,
        )

    @app.exception_handler(HriEmoError)
    async def bad_input(request: Request, err: HriEmoError) -> JSONResponse:
        return error_response(422, "unusable_input", str(err), request_id=request_id(request))
