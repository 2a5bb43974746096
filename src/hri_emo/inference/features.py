"""The encoders of a trained model at inference, and checks on features a user gives.

A training checkpoint records, per modality, where its features came from (`features.json`:
an encoder's FeatureMetadata, `{"source": "record", "dim": D}` for precomputed manifest columns,
or null when the modality was not used). `build_encoder` rebuilds the frozen encoder that made
them (and checks it); the recipe that makes features model-ready, `FeatureSpec`, is in
`hri_emo.data.features` (training's dataset applies the same).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import numpy as np
import torch

from hri_emo.data.features import RECORD_SOURCE, FeatureSpec, UtteranceFeatures
from hri_emo.encoders import DEFAULT_ENCODERS, create_audio_encoder, create_text_encoder
from hri_emo.encoders.base import parse_layer
from hri_emo.errors import ConfigError, DataError, FeatureMismatchError

log = logging.getLogger(__name__)

CHECKED_KEYS = ("encoder", "dim", "level", "layer")
CT2_AUDIO = ("whisper-tiny-en", "whisper-tiny-en-ct2")  # run by CTranslate2 for the last layer


def describe(spec: FeatureSpec, modality: str) -> str:
    """Where the training features of `modality` came from, for messages."""
    if modality == "text" and spec.finetuned_text:
        return "the checkpoint's fine-tuned text encoder"
    entry = spec.metadata(modality)
    if entry is None:
        if spec.features is None:
            return f"the embedded encoder {DEFAULT_ENCODERS[modality]!r}"
        return "nothing (the model was trained without it)"
    if entry.get("source") == RECORD_SOURCE:
        return f"precomputed {entry.get('dim')}-d columns of the training manifest"
    return f"encoder {entry.get('encoder')!r} (layer {entry.get('layer')}, {entry.get('level')})"


def check_features(modality: str, array: Any, expected_dim: int, spec: FeatureSpec) -> np.ndarray:
    """A user-given (L, D) or (D,) array as float32, or an error naming what is wrong."""
    features = np.asarray(array, dtype=np.float32)
    if features.ndim not in (1, 2) or features.size == 0:
        raise FeatureMismatchError(
            f"{modality}_features: expected a non-empty (L, {expected_dim}) or ({expected_dim},) "
            f"array, got shape {features.shape}"
        )
    if features.shape[-1] != expected_dim:
        raise FeatureMismatchError(
            f"{modality}_features have dimension {features.shape[-1]}, but the model expects "
            f"{expected_dim} (its training features came from {describe(spec, modality)})"
        )
    if not np.isfinite(features).all():
        raise DataError(f"{modality}_features contain NaN or Inf values")
    return features


def encoder_arguments(modality: str, entry: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(encoder name, create_*_encoder keyword arguments) reproducing a FeatureMetadata entry."""
    extra = entry.get("extra") or {}
    name = str(entry["encoder"])
    pooled = entry.get("level") == "pooled"
    kwargs: dict[str, Any] = {
        "layer": parse_layer(entry.get("layer", "last")),
        "pooling": extra.get("pooling", "mean" if pooled else "none"),
    }
    if modality == "audio":
        if "pad_to_30s" in extra:  # Whisper's window choice
            kwargs["pad_to_30s"] = bool(extra["pad_to_30s"])
        if name == "logmel" and extra.get("layer_dim"):
            kwargs["n_mels"] = int(extra["layer_dim"])
        revision = str(entry.get("revision", ""))
        if name == "whisper-tiny-en" and revision.endswith("+transformers"):
            name = "whisper-tiny-en-hf"  # the run used the converted transformers encoder
    return name, kwargs


def build_encoder(modality: str, spec: FeatureSpec) -> Any:
    """The frozen encoder that made the training features of `modality` (checked against them)."""
    entry = spec.metadata(modality)
    if entry is None:
        name, kwargs = DEFAULT_ENCODERS[modality], {}
    else:
        name, kwargs = encoder_arguments(modality, entry)
    create = create_text_encoder if modality == "text" else create_audio_encoder
    if name in CT2_AUDIO and kwargs.get("layer", "last") == "last":
        kwargs["threads"] = torch.get_num_threads()  # CTranslate2's own default is 4 threads
    if modality == "text":  # MiniLM without transformers where its ONNX export is cached
        create = partial(_fast_or_hf_text_encoder, create)
    try:
        encoder = create(name, **kwargs)
    except (ConfigError, OSError, ImportError) as err:
        raise ConfigError(
            f"cannot rebuild the {modality} encoder {name!r} that made this model's training "
            f"features: {str(err).rstrip('.')}. Make it available offline, or compute the "
            f"features yourself and call classify_features({modality}_features=...)"
        ) from err
    if entry is not None:
        check_encoder(modality, encoder, entry)
    return encoder


def _fast_or_hf_text_encoder(create: Any, name: str, **kwargs: Any) -> Any:
    """`encoders.text_onnx`'s transformers-free encoder (same features, ~3 s less start-up)
    when it applies and its ONNX export is cached, else the Hugging Face encoder."""
    from hri_emo.encoders.text_onnx import fast_text_encoder

    return fast_text_encoder(name, **kwargs) or create(name, **kwargs)


def check_encoder(modality: str, encoder: Any, entry: dict[str, Any]) -> None:
    """The encoder must give the features the model was trained on (revision: warning only)."""
    made = encoder.metadata
    made = {"encoder": made.encoder, "dim": made.dim, "level": made.level,
            "layer": made.layer, "revision": made.revision}  # fmt: skip
    for key in CHECKED_KEYS:
        if str(made[key]) != str(entry.get(key)):
            raise FeatureMismatchError(
                f"{modality} encoder {made['encoder']!r} gives {key} {made[key]!r}, but the model "
                f"was trained on features with {key} {entry.get(key)!r} (features.json)"
            )
    if entry.get("revision") and made["revision"] != entry["revision"]:
        log.warning(
            "%s encoder %r: revision %s differs from the training features' %s",
            modality,
            made["encoder"],
            made["revision"],
            entry["revision"],
        )


def check_words(words: list[str] | None, features: np.ndarray) -> list[str]:
    """The words of user-given text features (default "<0>", "<1>", ...), one per position."""
    length = 1 if features.ndim == 1 else features.shape[0]
    if words is None:
        return [f"<{i}>" for i in range(length)]
    if len(words) != length:
        raise DataError(f"words: {len(words)} given for {length} text feature positions")
    return [str(w) for w in words]


def given_features(
    spec: FeatureSpec,
    config: Any,
    modality: str,
    array: Any,
    words: list[str] | None = None,
    frame_times: Any = None,
) -> UtteranceFeatures:
    """User-given features (`classify_features`) checked against the model's `config`, then
    standardised and truncated by `spec`; `words` name the text positions."""
    if not spec.is_used(modality):
        message = f"{modality}_features given, but the model was trained without {modality}"
        raise FeatureMismatchError(message)
    features = check_features(modality, array, getattr(config, f"{modality}_dim"), spec)
    if frame_times is not None:
        frame_times = np.asarray(frame_times, dtype=np.float64).reshape(-1, 2)
    tokens = check_words(words, features) if modality == "text" else None
    return spec.prepare(modality, features, tokens, frame_times)
