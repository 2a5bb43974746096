"""Request and response models of the HTTP API: validation, the OpenAPI schema and its docs.

The answer body is `UtteranceExplanation.to_dict()` (documented here by `ExplanationBody`, whose
fields tests/serve/test_schemas.py checks one by one against the dataclass) wrapped with what
only the server knows (request id, server timings, stream position).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hri_emo.result import TRANSCRIPT_SOURCES
from hri_emo.serve.audio import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE

# The word maps a request may ask for: "attention", the model's own maps (hriemo-v2: its exact
# contributions), or "erasure" (each word removed and the rest encoded again: one more batch
# through the text encoder, ~30 ms). Integrated Gradients takes seconds: not served.
ServedAttribution = Literal["attention", "erasure"]
ATTRIBUTION_HELP = (
    'the word map: "attention" (the model\'s own maps, exact contributions for hriemo-v2) or '
    '"erasure" (each word\'s effect when removed from the transcript; ~30 ms more)'
)

SESSION_ID_MAX, SPEAKER_MAX = 100, 100
WORD_TIMES_MAX = 10_000  # spans; a transcript is limited to --max-text-chars anyway


class PredictRequest(BaseModel):
    """JSON body of POST /v1/predict: base64 audio (raw PCM or a wav file), a transcript, or
    both. Without `text` the server transcribes the audio (when the model has ASR)."""

    model_config = ConfigDict(extra="forbid")

    audio_base64: str | None = Field(
        None, description="base64 of the audio bytes (see `encoding`)", max_length=64 * 2**20
    )
    encoding: Literal["pcm_s16le", "wav"] = Field(
        "pcm_s16le", description="pcm_s16le: raw 16-bit little-endian mono; wav: a wav file"
    )
    sample_rate: int | None = Field(
        None,
        ge=MIN_SAMPLE_RATE,
        le=MAX_SAMPLE_RATE,
        description="Hz; required for pcm_s16le (a wav file carries its own)",
    )
    text: str | None = Field(None, description="the transcript (optional)")
    word_times: list[tuple[float, float] | None] | None = Field(
        None,
        max_length=WORD_TIMES_MAX,
        description="when each word of `text` (split on whitespace) was spoken: [start, end] in "
        "seconds, or null, per word (e.g. from your own ASR); saves the server aligning the "
        "transcript itself",
    )
    session: str | None = Field(
        None,
        max_length=SESSION_ID_MAX,
        description="a dialogue session (POST /v1/sessions): its last turns are the context",
    )
    speaker: str | None = Field(
        None, max_length=SPEAKER_MAX, description="who said this turn (with `session`)"
    )


class SessionResponse(BaseModel):
    """POST /v1/sessions: a new dialogue session."""

    session: str = Field(description="the id to send with /v1/predict; keep it private")
    context_turns: int = Field(description="past turns the model reads (0: it reads none)")
    idle_timeout_s: float = Field(description="the session is forgotten after this idle time")
    note: str | None = Field(None, description="why the model reads no context, if it does not")


class ExplanationBody(BaseModel):
    """`UtteranceExplanation.to_dict()`: the recognizer's result for one utterance. The maps
    (frame_times, alignment, attribution, ...) are present when asked for (`maps=true`)."""

    model_config = ConfigDict(extra="allow")

    emotions: list[str]
    task: str
    probabilities: dict[str, float]
    predicted: list[str] = Field(description="the decision: emotions at or above threshold")
    thresholds: dict[str, float] | None = None
    beta_mean: float | None = Field(None, description="1 = audio trusted, 0 = text trusted")
    words: list[str]
    top_words: dict[str, list[tuple[str, float]]]
    transcript: str | None = None
    transcript_source: str | None = Field(
        None, description=" or ".join(f'"{source}"' for source in TRANSCRIPT_SOURCES)
    )
    word_times: list[tuple[float, float] | None] | None = None
    asr_confidence: float | None = None
    alignment_confidence: float | None = Field(
        None, description="how well the words were placed in time (low: transcript mismatch)"
    )
    transcript_reliability: float | None = Field(
        None, description="how complete the transcript looks from its word rate (0..1)"
    )
    duration_s: float | None = None
    timings_ms: dict[str, float]
    notes: list[str]
    utterance_id: str | None = None
    true_labels: list[str] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict, description="corpus record fields")
    attribution_method: str = Field(
        "attention",
        description='what drew the maps: "contribution" (exact), "attention", '
        '"integrated-gradients" or "erasure"',
    )
    context_turns: list[str] | None = Field(
        None, description="previous turns of the dialogue the model read (context models only)"
    )
    logit_sources: dict[str, dict[str, float]] | None = Field(
        None,
        description="per emotion, the parts of its logit: words, audio, context and bias "
        '(attribution_method "contribution" or "erasure"), or the emotion decoder and the '
        "pooled text and audio read-outs (attention maps with pooled_readout)",
    )
    logits_centred: bool = Field(
        False,
        description="single-label models: logit-unit values (contribution and erasure maps, "
        "logit_sources) are read against the other emotions (each minus the "
        "probability-weighted mean over emotions); an emotion's parts sum to "
        "log p - sum_j p_j log p_j",
    )


class PredictResponse(BaseModel):
    request_id: str
    session: str | None = Field(None, description="the dialogue session of this turn, if any")
    result: ExplanationBody
    server_timings_ms: dict[str, float] = Field(
        description="decode, queue (waiting for a worker), inference, total"
    )


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody
    request_id: str | None = None


class HealthResponse(BaseModel):
    status: Literal["ok", "ready", "loading"]


class ModelInfo(BaseModel):
    emotions: list[str]
    task: str
    thresholds: dict[str, float] | None
    model: dict[str, Any] = Field(description="name, architecture, dimensions of the model")
    encoders: dict[str, str] = Field(description="where each modality's features come from")
    backend: str
    asr: str
    vad: str
    versions: dict[str, str]
    limits: dict[str, Any]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in {
        401: "missing or wrong API token",
        404: "unknown or expired dialogue session",
        429: "this client has its share of dialogue sessions",
        413: "body or audio over the limit",
        415: "unsupported content type",
        422: "malformed request (the message names the problem)",
        503: "not ready, or every worker busy (see Retry-After)",
        501: "dialogue sessions are not available with --processes N",
        504: "inference took longer than the request timeout",
    }.items()
}
