"""Decode request audio (wav bytes or raw 16-bit PCM) to float32 mono 16 kHz, or refuse it
with an ApiError naming the problem."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf
import soxr

from hri_emo.encoders.audio_io import TARGET_SAMPLE_RATE
from hri_emo.serve.http_errors import ApiError

MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8_000, 192_000


def decode_wav(data: bytes, max_audio_s: float, field: str = "audio") -> np.ndarray:
    """A wav (or any libsndfile format) file's bytes -> (N,) float32 mono 16 kHz."""
    if not data:
        raise ApiError(422, "empty_audio", f"{field}: the audio file is empty (0 bytes)")
    try:
        with sf.SoundFile(io.BytesIO(data)) as handle:
            rate, frames = handle.samplerate, handle.frames
            check_sample_rate(rate, field=f"{field} (its header)")
            if frames > 0 and frames / rate > max_audio_s:
                raise _too_long(field, frames / rate, max_audio_s)
            samples = handle.read(dtype="float32", always_2d=True)  # (N, C)
    except ApiError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        reason = getattr(err, "error_string", None) or str(err)
        raise ApiError(
            422, "invalid_audio", f"{field}: cannot decode the bytes as a wav file ({reason})"
        ) from err
    return _to_16k(samples.mean(axis=1, dtype=np.float32), rate, field)


def decode_pcm16(data: bytes, sample_rate: int, max_audio_s: float, field: str) -> np.ndarray:
    """Raw little-endian 16-bit mono PCM at `sample_rate` -> (N,) float32 mono 16 kHz."""
    check_sample_rate(sample_rate, field="sample_rate")
    if len(data) % 2:
        raise ApiError(
            422,
            "invalid_audio",
            f"{field}: {len(data)} bytes is not a whole number of 16-bit samples",
        )
    if len(data) / 2 / sample_rate > max_audio_s:
        raise _too_long(field, len(data) / 2 / sample_rate, max_audio_s)
    samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    return _to_16k(samples, sample_rate, field)


def check_sample_rate(sample_rate: int, field: str = "sample_rate") -> None:
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise ApiError(
            422,
            "invalid_sample_rate",
            f"{field}: {sample_rate} Hz is not a usable sample rate "
            f"(expected {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE})",
        )


def _to_16k(mono: np.ndarray, rate: int, field: str) -> np.ndarray:
    if mono.size == 0:
        raise ApiError(422, "empty_audio", f"{field}: the recording has 0 samples")
    if not np.isfinite(mono).all():
        raise ApiError(422, "invalid_audio", f"{field}: the recording has NaN or infinite samples")
    if not np.any(mono):
        raise ApiError(422, "silent_audio", f"{field}: every sample is zero (a silent recording)")
    if rate != TARGET_SAMPLE_RATE:
        mono = soxr.resample(mono, rate, TARGET_SAMPLE_RATE).astype(np.float32)
    if mono.size < TARGET_SAMPLE_RATE // 100:
        raise ApiError(422, "audio_too_short", f"{field}: shorter than 10 ms")
    return np.ascontiguousarray(mono, dtype=np.float32)


def _too_long(field: str, seconds: float, limit: float) -> ApiError:
    return ApiError(
        413,
        "audio_too_long",
        f"{field}: {seconds:.1f} s of audio is over the limit of {limit:g} s (--max-audio-s)",
    )
