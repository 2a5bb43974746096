"""The WebSocket stream protocol (WS /v1/stream), one `StreamSession` per connection.

Client -> server
  1. text  {"type": "start", "sample_rate": 16000, "segmentation": "vad", "maps": false,
            "attribution": "attention"}
  2. binary frames: 16-bit little-endian mono PCM at that rate, any length
     text  {"type": "transcript", "text": "..."}   a transcript piece of the current utterance
     text  {"type": "end_utterance"}                 close the current utterance now
     text  {"type": "stop"}                          flush, answer what is left, then close
Server -> client
  {"type": "ready", ...} once; {"type": "speech_start", "start_s"}; {"type": "result",
  "utterance", "start_s", "end_s", "reason", "result": {...as /v1/predict...}};
  {"type": "warning", "code": "max_utterance_length" | "buffer_full", ...};
  {"type": "error", "code", "message"} (fatal ones are followed by a close); {"type": "end"}.
With a context model (data.context_turns > 0) the connection keeps one dialogue
(inference/dialogue.py): each answered utterance is a turn, read with the last k as context.
docs/serving.md describes every field.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import soxr
from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hri_emo.errors import HriEmoError
from hri_emo.inference.vad import VAD_SAMPLE_RATE, create_vad
from hri_emo.serve.audio import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE
from hri_emo.serve.engine import InferenceEngine, wrap_result
from hri_emo.serve.http_errors import ApiError, validation_details
from hri_emo.serve.schemas import ATTRIBUTION_HELP, ServedAttribution
from hri_emo.serve.segmenter import (
    SegmenterConfig,
    SpeechSegment,
    SpeechStarted,
    UtteranceSegmenter,
)

log = logging.getLogger(__name__)
START_TIMEOUT_S = 10.0
CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_NORMAL = 1008, 1009, 1000


class StartMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["start"]
    sample_rate: int = Field(ge=MIN_SAMPLE_RATE, le=MAX_SAMPLE_RATE)
    encoding: Literal["pcm_s16le"] = "pcm_s16le"
    segmentation: Literal["vad", "client"] = "vad"
    silence_end_s: float = Field(0.3, ge=0.1, le=3.0)  # VAD: silence that ends an utterance
    maps: bool = False
    attribution: ServedAttribution = Field("attention", description=ATTRIBUTION_HELP)
    speaker: str | None = Field(None, max_length=100)  # who speaks (dialogue context)


class TranscriptMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["transcript"]
    text: str = Field(max_length=2000)


class ControlMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["end_utterance", "stop"]


CONTROL_TYPES = ("transcript", "end_utterance", "stop")


def _misplaced(kind: object) -> str | None:
    """Why a control message is not one, in words (None: let the schema check it)."""
    if kind == "start":
        return "the stream has already started: send the start message once, first"
    if kind is None:
        return f"a text message must be a JSON object with a type ({', '.join(CONTROL_TYPES)})"
    if kind not in CONTROL_TYPES:
        return f"unknown message type {str(kind)[:40]!r}: expected {', '.join(CONTROL_TYPES)}"
    return None


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, close: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.close = code, message, close


@dataclass
class PendingUtterance:
    index: int
    utterance: SpeechSegment
    text: str | None
    closed_at: float = field(default_factory=time.perf_counter)


class StreamSession:
    """Reads a client's frames and marks, segments them, answers each utterance in order."""

    def __init__(self, websocket: WebSocket, engine: InferenceEngine, request_id: str) -> None:
        self.ws, self.engine = websocket, engine
        self.settings = engine.settings
        self.limits = engine.settings.limits
        self.session_id = request_id or uuid.uuid4().hex[:16]
        self._send_lock = asyncio.Lock()
        self._queue: asyncio.Queue[PendingUtterance | None] = asyncio.Queue()
        self._unanswered_s = 0.0  # audio of closed utterances not yet answered
        self._texts: list[str] = []
        self._count = 0
        self._dropped_s = 0.0  # audio dropped in the current overflow episode
        self.segmenter: UtteranceSegmenter | None = None
        self.start: StartMessage | None = None
        dialogue = engine.recognizer.dialogue()  # each answered utterance is a turn
        self.dialogue = dialogue if dialogue.uses_context else None

    async def run(self) -> None:
        answering = None
        try:
            self.start = await self._read_start()
            self.segmenter = self._make_segmenter(self.start)
            self._resampler = None
            if self.start.sample_rate != VAD_SAMPLE_RATE:
                self._resampler = soxr.ResampleStream(
                    self.start.sample_rate, VAD_SAMPLE_RATE, 1, dtype="float32"
                )
            await self.send(self._ready_message())
            answering = asyncio.create_task(self._answer_loop())
            await self._read_loop()
            await self._queue.put(None)
            await answering
            await self.send({"type": "end", "utterances": self._count})
            await self.ws.close(CLOSE_NORMAL)
        except ProtocolError as err:
            await self._fail(err)
        except WebSocketDisconnect:
            pass
        finally:
            if answering is not None and not answering.done():
                answering.cancel()

    # -- reading ----------------------------------------------------------------------------

    async def _read_start(self) -> StartMessage:
        try:
            message = await asyncio.wait_for(self.ws.receive(), START_TIMEOUT_S)
        except asyncio.TimeoutError:
            raise ProtocolError(
                "start_timeout", f"no start message within {START_TIMEOUT_S:g} s", CLOSE_POLICY
            ) from None
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        self._check_size(message)
        if message.get("text") is None:
            raise ProtocolError(
                "start_required",
                "the first message must be the JSON start "
                'message {"type": "start", "sample_rate": ...}; got binary '
                "audio",
                CLOSE_POLICY,
            )
        try:
            return StartMessage.model_validate_json(message["text"])
        except ValidationError as err:
            summary, _ = validation_details(list(err.errors()))
            raise ProtocolError(
                "invalid_start", f"start message: {summary}", CLOSE_POLICY
            ) from None

    async def _read_loop(self) -> None:
        """Until the client stops or goes away."""
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            self._check_size(message)
            if message.get("bytes") is not None:
                await self._on_audio(message["bytes"])
            elif await self._on_control(message.get("text") or ""):
                return

    def _check_size(self, message: dict[str, Any]) -> None:
        data = message.get("bytes") or message.get("text") or b""
        if len(data) > self.limits.ws_max_message_bytes:
            raise ProtocolError(
                "message_too_large",
                f"a message of {len(data)} bytes is over "
                f"the limit of {self.limits.ws_max_message_bytes} bytes "
                "(--ws-max-message-bytes): send smaller frames",
                CLOSE_TOO_BIG,
            )

    async def _on_audio(self, data: bytes) -> None:
        assert self.segmenter is not None and self.start is not None
        if len(data) % 2:
            raise ProtocolError(
                "invalid_audio",
                f"a binary frame of {len(data)} bytes is not whole 16-bit samples",
                CLOSE_POLICY,
            )
        seconds = len(data) / 2 / self.start.sample_rate
        if self._unanswered_s + self.segmenter.open_s + seconds > self.limits.stream_buffer_s:
            await self._drop(seconds)
            return
        if self._dropped_s:
            self._dropped_s = 0.0
        samples = np.frombuffer(data, dtype="<i2")
        if self._resampler is not None:
            floats = self._resampler.resample_chunk(samples.astype(np.float32) / 32768.0)
            samples = np.clip(floats * 32768.0, -32768, 32767).astype(np.int16)
        for event in self.segmenter.push(samples):
            await self._on_event(event)

    async def _drop(self, seconds: float) -> None:
        first = not self._dropped_s
        self._dropped_s += seconds
        if first:
            await self.send(
                {
                    "type": "warning",
                    "code": "buffer_full",
                    "message": f"over {self.limits.stream_buffer_s:g} s of audio wait "
                    "for an answer (sending faster than real time?): audio is dropped "
                    "until the server catches up (--stream-buffer-s)",
                    "at_s": self.segmenter.stream_s,
                }
            )

    async def _on_control(self, text: str) -> bool:
        """Handle a text message; True when the client asked to stop."""
        try:
            kind = json.loads(text).get("type") if text.strip().startswith("{") else None
        except ValueError:
            kind = None
        problem = _misplaced(kind)
        try:
            if problem is None and kind == "transcript":
                piece = TranscriptMessage.model_validate_json(text).text
                if "\x00" in piece:
                    problem = "transcript contains NUL characters"
                else:
                    self._texts.append(piece)
                    return False
            elif problem is None:
                ControlMessage.model_validate_json(text)
        except ValidationError as err:
            problem, _ = validation_details(list(err.errors()))
        if problem is not None:
            await self.send({"type": "error", "code": "invalid_message", "message": problem})
            return False
        assert self.segmenter is not None
        closed = self.segmenter.end_utterance("stop" if kind == "stop" else "end_mark")
        if closed is not None:
            await self._on_event(closed)
        elif self._texts:  # text only: an utterance without audio
            at = self.segmenter.stream_s
            await self._enqueue(SpeechSegment(at, at, np.zeros(0, np.float32), "end_mark"))
        elif kind == "end_utterance":
            await self.send(
                {
                    "type": "notice",
                    "code": "nothing_to_end",
                    "message": "no speech since the last utterance",
                }
            )
        return kind == "stop"

    async def _on_event(self, event: SpeechStarted | SpeechSegment) -> None:
        if isinstance(event, SpeechStarted):
            await self.send({"type": "speech_start", "start_s": round(event.start_s, 3)})
            return
        if event.reason == "max_length":
            await self.send(
                {
                    "type": "warning",
                    "code": "max_utterance_length",
                    "message": f"utterance cut at {self.limits.max_utterance_s:g} s "
                    "(--max-utterance-s); the next one goes on",
                    "at_s": round(event.end_s, 3),
                }
            )
        await self._enqueue(event)

    async def _enqueue(self, utterance: SpeechSegment) -> None:
        text = " ".join(t.strip() for t in self._texts if t.strip()) or None
        self._texts.clear()
        self._unanswered_s += utterance.duration_s
        await self._queue.put(PendingUtterance(self._count, utterance, text))
        self._count += 1

    # -- answering --------------------------------------------------------------------------

    async def _answer_loop(self) -> None:
        assert self.start is not None
        while (pending := await self._queue.get()) is not None:
            utterance = pending.utterance
            wave = utterance.audio if utterance.audio.size else None
            where = {
                "utterance": pending.index,
                "start_s": round(utterance.start_s, 3),
                "end_s": round(utterance.end_s, 3),
                "reason": utterance.reason,
            }
            try:
                body, timings = await self.engine.predict(
                    wave,
                    pending.text,
                    maps=self.start.maps,
                    attribution=self.start.attribution,
                    wait=True,
                    dialogue=self.dialogue,
                    speaker=self.start.speaker,
                )
            except (ApiError, HriEmoError) as err:
                code, message = (
                    getattr(err, "code", "unusable_input"),
                    getattr(err, "message", str(err)),
                )
                await self.send({"type": "error", "code": code, "message": message, **where})
            else:
                timings["since_end"] = 1000 * (time.perf_counter() - pending.closed_at)
                timings = {k: round(v, 3) for k, v in timings.items()}
                await self.send_text(
                    wrap_result(body, type="result", **where, server_timings_ms=timings)
                )
            finally:
                self._unanswered_s -= utterance.duration_s

    # -- sending ----------------------------------------------------------------------------

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_text(json.dumps(message))

    async def send_text(self, text: str) -> None:
        async with self._send_lock:
            await self.ws.send_text(text)

    async def _fail(self, err: ProtocolError) -> None:
        log.info("stream %s: %s: %s", self.session_id, err.code, err.message)
        try:
            await self.send({"type": "error", "code": err.code, "message": err.message})
            await self.ws.close(err.close or CLOSE_POLICY, reason=err.code)
        except (WebSocketDisconnect, RuntimeError):
            pass

    def _make_segmenter(self, start: StartMessage) -> UtteranceSegmenter:
        config = SegmenterConfig(
            segmentation=start.segmentation,
            silence_end_s=start.silence_end_s,
            max_utterance_s=self.limits.max_utterance_s,
        )
        vad = create_vad(self.settings.vad) if start.segmentation == "vad" else None
        return UtteranceSegmenter(vad, config)

    def _ready_message(self) -> dict[str, Any]:
        assert self.start is not None
        return {
            "type": "ready",
            "session_id": self.session_id,
            "sample_rate": self.start.sample_rate,
            "segmentation": self.start.segmentation,
            "vad": self.settings.vad if self.start.segmentation == "vad" else None,
            "silence_end_s": self.start.silence_end_s,
            "maps": self.start.maps,
            "attribution": self.start.attribution,
            "context_turns": 0 if self.dialogue is None else self.dialogue.max_turns,
            "limits": {
                k: getattr(self.limits, k)
                for k in ("max_utterance_s", "stream_buffer_s", "ws_max_message_bytes")
            },
        }
