"""`InferenceEngine`: the recognizer, loaded once and warmed up, behind the inference gate.

Model calls are CPU-bound: they run in the gate's worker threads so the event loop keeps
answering health checks and stream frames. The result is serialised to JSON in the worker too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import platform
import time
from typing import Any

import numpy as np
import torch

from hri_emo.errors import ConfigError
from hri_emo.inference import EmotionRecognizer
from hri_emo.inference.dialogue import Dialogue
from hri_emo.inference.features import describe
from hri_emo.serve.http_errors import ApiError
from hri_emo.serve.limits import InferenceGate, QueueFullError
from hri_emo.serve.settings import ServeSettings

log = logging.getLogger(__name__)
WARM_UP_TEXT = "hello there, nice to meet you"


def load_recognizer(settings: ServeSettings) -> EmotionRecognizer:
    """`EmotionRecognizer.from_pretrained` with the server's ASR and backend options."""
    if settings.model is None:
        raise ConfigError("no model given: hri-emo serve MODEL (a run or model folder)")
    return EmotionRecognizer.from_pretrained(
        settings.model, asr=settings.asr, backend=settings.backend
    )


class InferenceEngine:
    """One recognizer shared by every request and stream."""

    def __init__(self, recognizer: EmotionRecognizer, settings: ServeSettings) -> None:
        self.recognizer = recognizer
        self.settings = settings
        self.gate = InferenceGate(settings.limits.workers, settings.limits.queue_size)
        self.ready = False

    def warm_up(self) -> float:
        """Build the encoders and run every path once; returns the seconds it took."""
        from hri_emo.synth import synthesize

        start = time.perf_counter()
        self.recognizer.check_compatible()  # the check predict makes, before any utterance
        voice = synthesize(WARM_UP_TEXT).resampled(16000).wave  # speech: admitted by the VAD
        self.recognizer.classify(voice, WARM_UP_TEXT).to_dict()
        if self.has_asr:
            self.recognizer.classify(voice, None)
        self.ready = True
        return time.perf_counter() - start

    @property
    def has_asr(self) -> bool:
        return self.recognizer.asr is not None and self.settings.asr != "none"

    async def predict(
        self,
        wave: np.ndarray | None,
        text: str | None,
        *,
        maps: bool,
        wait: bool = False,
        dialogue: Dialogue | None = None,
        speaker: str | None = None,
        word_times: list[Any] | None = None,
        attribution: str = "attention",
    ) -> tuple[str, dict[str, float]]:
        """(the result as a JSON object string, server timings in ms). HTTP callers get
        ApiError 503 when the queue is full (`wait=False`) and 504 past the timeout. With a
        `dialogue` the utterance is its next turn (said by `speaker`), read with its past;
        `word_times`: the caller's word spans, `attribution` the word map (a
        `schemas.ServedAttribution`; `EmotionRecognizer.classify`)."""
        if not self.ready:
            raise ApiError(503, "not_ready", "the model is still loading", headers=self._retry())
        if text is not None and not text.strip():
            text = None

        options = {"transcribe": self.has_asr, "word_times": word_times, "attribution": attribution}

        def infer() -> tuple[str, float]:
            start = time.perf_counter()
            if dialogue is not None:
                result = dialogue.classify(wave, text, speaker, **options)
            else:
                result = self.recognizer.classify(wave, text, **options)
            body = json.dumps(result.to_dict(maps=maps), separators=(",", ":"))
            return body, 1000 * (time.perf_counter() - start)

        timeout = self.settings.limits.request_timeout_s
        try:
            (body, inference_ms), queue_ms = await asyncio.wait_for(
                self.gate.run(infer, wait=wait), timeout
            )
        except QueueFullError:
            raise ApiError(
                503,
                "busy",
                f"all {self.gate.capacity} inference slots are taken; retry later",
                headers=self._retry(),
            ) from None
        except TimeoutError:
            raise ApiError(
                504,
                "timeout",
                f"inference did not finish within {timeout:g} s (--request-timeout-s)",
            ) from None
        return body, {"queue": queue_ms, "inference": inference_ms}

    def _retry(self) -> dict[str, str]:
        return {"Retry-After": str(self.settings.limits.retry_after_s)}

    def info(self) -> dict[str, Any]:
        """What GET /v1/model answers."""
        import hri_emo

        recognizer, config = self.recognizer, self.recognizer.model.config
        thresholds = recognizer.thresholds
        return {
            "emotions": list(recognizer.emotions),
            "task": recognizer.task,
            "thresholds": None
            if thresholds is None
            else dict(zip(recognizer.emotions, thresholds)),
            "model": {
                "name": config.name,
                "architecture": config.architecture,
                "text_dim": config.text_dim,
                "audio_dim": config.audio_dim,
                "ensemble_members": getattr(recognizer.model, "size", 1),
                "folder": self.settings.model.name if self.settings.model else None,
            },
            "encoders": {m: describe(recognizer.spec, m) for m in ("text", "audio")},
            "backend": self.recognizer.backend,
            "asr": self.settings.asr if self.has_asr else "unavailable",
            "vad": self.settings.vad,
            "versions": {
                "hri_emo": getattr(hri_emo, "__version__", "unknown"),
                "torch": torch.__version__,
                "python": platform.python_version(),
            },
            "limits": self.settings.limits.to_dict(),
        }


def wrap_result(result_json: str, **fields: Any) -> str:
    """The JSON answer: server fields around the recognizer's result object (kept as text)."""
    head = json.dumps(fields, separators=(",", ":"))[:-1]
    return f'{head},"result":{result_json}}}' if fields else f'{{"result":{result_json}}}'
