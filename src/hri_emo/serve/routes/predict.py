"""POST /v1/predict: one utterance (multipart wav and/or text, or JSON with base64 audio),
optionally a turn of a dialogue session (serve/sessions.py)."""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError

from hri_emo.inference.dialogue import Dialogue
from hri_emo.serve.audio import decode_pcm16, decode_wav
from hri_emo.serve.engine import wrap_result
from hri_emo.serve.forms import parse_form
from hri_emo.serve.http_errors import ApiError, validation_details
from hri_emo.serve.limits import ServeLimits
from hri_emo.serve.schemas import (
    ATTRIBUTION_HELP,
    ERROR_RESPONSES,
    SESSION_ID_MAX,
    SPEAKER_MAX,
    PredictRequest,
    PredictResponse,
    ServedAttribution,
)

router = APIRouter(tags=["predict"])
FORM_FIELDS = ("audio", "text", "session", "speaker", "word_times")


@dataclass
class Parsed:
    """What a request asks to classify."""

    wave: np.ndarray | None
    text: str | None
    session: str | None = None
    speaker: str | None = None
    word_times: list[Any] | None = None  # the caller's (start, end) per word of `text`


REQUEST_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "audio": {
                        "type": "string",
                        "format": "binary",
                        "description": "a wav file (any rate, mono or stereo)",
                    },
                    "text": {"type": "string", "description": "the transcript (optional)"},
                    "session": {"type": "string", "description": "a dialogue session id"},
                    "speaker": {"type": "string", "description": "who said this turn"},
                    "word_times": {
                        "type": "string",
                        "description": "JSON list: [start, end] in s or null per word of text",
                    },
                },
                "additionalProperties": False,
            }
        },
        "application/json": {"schema": PredictRequest.model_json_schema()},
    },
}


@router.post(
    "/v1/predict",
    summary="emotions of one utterance, with their explanation",
    response_model=PredictResponse,
    responses=ERROR_RESPONSES,
    openapi_extra={"requestBody": REQUEST_BODY},
)
async def predict(
    request: Request,
    maps: bool = Query(False, description="include the alignment/attribution maps"),
    attribution: Annotated[ServedAttribution, Query(description=ATTRIBUTION_HELP)] = "attention",
) -> Response:
    start = time.perf_counter()
    limits: ServeLimits = request.app.state.settings.limits
    content_type = request.headers.get("content-type", "")
    body = await request.body()
    if not body:
        raise ApiError(
            422, "empty_body", "the request body is empty: send JSON or a multipart form"
        )
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json":
        parsed = _from_json(body, limits)
    elif media == "multipart/form-data":
        parsed = _from_form(body, content_type, limits)
    else:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"content type {media or 'none'!r}: send application/json or multipart/form-data",
        )
    dialogue = _dialogue(request, parsed.session, parsed.speaker)
    decode_ms = 1000 * (time.perf_counter() - start)
    engine = request.app.state.engine
    result, timings = await engine.predict(
        parsed.wave,
        parsed.text,
        maps=maps,
        attribution=attribution,
        dialogue=dialogue,
        speaker=parsed.speaker,
        word_times=parsed.word_times,
    )
    timings = {"decode": decode_ms, **timings, "total": 1000 * (time.perf_counter() - start)}
    content = wrap_result(
        result,
        request_id=request.state.request_id,
        **({"session": parsed.session} if parsed.session is not None else {}),
        server_timings_ms={k: round(v, 3) for k, v in timings.items()},
    )
    return Response(content, media_type="application/json")


def _dialogue(request: Request, session: str | None, speaker: str | None) -> Dialogue | None:
    """The session's dialogue (404 when unknown to this client), or None without a session."""
    if session is None:
        if speaker is not None:
            raise ApiError(
                422,
                "speaker_without_session",
                "speaker is only read in a dialogue session: send session too",
            )
        return None
    client = request.client.host if request.client else "-"
    return request.app.state.sessions.get(session, client)


def _from_json(body: bytes, limits: ServeLimits) -> Parsed:
    try:
        payload = PredictRequest.model_validate_json(body)
    except ValidationError as err:
        summary, details = validation_details(list(err.errors()))
        raise ApiError(422, "invalid_request", summary, details=details) from None
    wave = None
    if payload.audio_base64 is not None:
        try:
            data = base64.b64decode(payload.audio_base64, validate=True)
        except (binascii.Error, ValueError) as err:
            raise ApiError(
                422, "invalid_base64", f"audio_base64 is not valid base64: {err}"
            ) from None
        if payload.encoding == "wav":
            wave = decode_wav(data, limits.max_audio_s, field="audio_base64")
        elif payload.sample_rate is None:
            raise ApiError(
                422, "missing_sample_rate", "sample_rate is required with encoding pcm_s16le"
            )
        else:
            wave = decode_pcm16(data, payload.sample_rate, limits.max_audio_s, "audio_base64")
    text = _checked_text(payload.text, wave, limits)
    speaker = _checked_speaker(payload.speaker)
    return Parsed(wave, text, payload.session, speaker, payload.word_times)


def _from_form(body: bytes, content_type: str, limits: ServeLimits) -> Parsed:
    parts = parse_form(body, content_type, FORM_FIELDS)
    wave = None
    if "audio" in parts:
        wave = decode_wav(bytes(parts["audio"].data), limits.max_audio_s, field="audio")
    text = parts["text"].text() if "text" in parts else None
    session, speaker = (parts[k].text() if k in parts else None for k in ("session", "speaker"))
    if session is not None and len(session) > SESSION_ID_MAX:
        raise ApiError(422, "invalid_request", f"session: at most {SESSION_ID_MAX} characters")
    word_times = _form_word_times(parts["word_times"].text()) if "word_times" in parts else None
    text = _checked_text(text, wave, limits)
    return Parsed(wave, text, session, _checked_speaker(speaker), word_times)


def _form_word_times(field: str) -> list[Any]:
    """The multipart `word_times` field: a JSON list, checked as the JSON body's is."""
    try:
        return PredictRequest.model_validate({"word_times": json.loads(field)}).word_times
    except (ValueError, ValidationError):  # json.JSONDecodeError is a ValueError
        raise ApiError(
            422,
            "invalid_request",
            "word_times: expected a JSON list with [start, end] in seconds or null per word",
        ) from None


def _checked_speaker(speaker: str | None) -> str | None:
    if speaker is not None and (len(speaker) > SPEAKER_MAX or "\x00" in speaker):
        raise ApiError(
            422,
            "invalid_speaker",
            f"speaker: at most {SPEAKER_MAX} characters, without NUL characters",
        )
    return speaker


def _checked_text(text: str | None, wave: np.ndarray | None, limits: ServeLimits) -> str | None:
    if text is not None and len(text) > limits.max_text_chars:
        raise ApiError(
            413,
            "text_too_long",
            f"text: {len(text)} characters is over the limit "
            f"of {limits.max_text_chars} (--max-text-chars)",
        )
    if text is not None and "\x00" in text:
        raise ApiError(422, "invalid_text", "text contains NUL characters")
    if wave is None and not (text and text.strip()):
        raise ApiError(
            422, "nothing_to_classify", "send audio, a non-empty transcript (text), or both"
        )
    return text
