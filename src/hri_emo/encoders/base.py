"""What every encoder returns and promises, and the small helpers they share.

Dimension letters: B batch, T tokens (words) or frames, D feature size, L transformer layers.

Layer choice (`layer=`): "last" (the final hidden state), an int index into the model's hidden
states (0 = embeddings, -1 = last; negative counts from the end), or "all": every hidden state
stacked, (L+1, T, D) per utterance, for a learned weighted sum of layers downstream (s3prl style).
In a feature store "all" is kept as (T, (L+1)*D), layer-major, with `extra["num_layers"] = L+1`;
`hri_emo.data.features.split_layers` turns it back into (L+1, T, D).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np
import torch

from hri_emo.errors import ConfigError

if TYPE_CHECKING:
    from hri_emo.data.store.feature_store import FeatureMetadata

LayerChoice = Literal["last", "all"] | int
Pooling = Literal["none", "mean", "cls"]


@dataclass
class EncodedText:
    """Features of one transcript. `tokens` are WORDS (sub-word pieces merged), None if pooled.

    features: (T, D) per word, (D,) pooled, or with layer="all" (L+1, T, D) / (L+1, D).
    """

    features: np.ndarray
    tokens: list[str] | None


@dataclass
class EncodedAudio:
    """Features of one recording and the time span (start, end) in seconds of every frame.

    features: (T, D) per frame, (D,) pooled, or with layer="all" (L+1, T, D) / (L+1, D).
    frame_times: (T, 2) seconds, or None when pooled.
    """

    features: np.ndarray
    frame_times: np.ndarray | None


@runtime_checkable
class TextEncoder(Protocol):
    """Turns transcripts into word-level (or pooled) feature arrays."""

    name: str
    modality: str  # "text"
    layer: LayerChoice
    dim: int  # size of one feature vector of one layer

    @property
    def metadata(self) -> FeatureMetadata: ...

    def encode(self, texts: list[str]) -> list[EncodedText]: ...


@runtime_checkable
class AudioEncoder(Protocol):
    """Turns float32 mono 16 kHz waves into frame-level (or pooled) feature arrays."""

    name: str
    modality: str  # "audio"
    layer: LayerChoice
    dim: int

    @property
    def metadata(self) -> FeatureMetadata: ...

    def encode(self, waves: list[np.ndarray]) -> list[EncodedAudio]: ...


def parse_layer(layer: str | int) -> LayerChoice:
    """Accept "last", "all", an int, or an int written as a string (from the command line)."""
    if isinstance(layer, int) or layer in ("last", "all"):
        return layer
    try:
        return int(layer)
    except (TypeError, ValueError):
        raise ConfigError(f"layer must be 'last', 'all' or an integer, got {layer!r}") from None


def check_pooling(pooling: str, allowed: tuple[str, ...]) -> str:
    if pooling not in allowed:
        raise ConfigError(f"pooling must be one of {allowed}, got {pooling!r}")
    return pooling


def select_hidden(hidden_states: tuple[torch.Tensor, ...], layer: LayerChoice) -> torch.Tensor:
    """(B, T, D) for "last" or an index; (B, L+1, T, D) for "all"."""
    if layer == "last":
        return hidden_states[-1]
    if layer == "all":
        return torch.stack(hidden_states, dim=1)
    if not -len(hidden_states) <= layer < len(hidden_states):
        raise ConfigError(
            f"layer {layer} out of range: the model has {len(hidden_states)} hidden states "
            f"(0 = embeddings .. {len(hidden_states) - 1} = last)"
        )
    return hidden_states[layer]


def masked_mean(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the T axis of real positions. features (..., T, D), mask (T,) bool -> (..., D)."""
    weights = mask.to(features.dtype)
    return (features * weights[:, None]).sum(-2) / weights.sum().clamp(min=1.0)


def layer_count(features: np.ndarray, layer: LayerChoice) -> int:
    """How many layers an encoded array stacks (1 unless layer == "all")."""
    return int(features.shape[0]) if layer == "all" else 1


def frame_spans(num_frames: int, hop_s: float, window_s: float, duration_s: float) -> np.ndarray:
    """(T, 2) start/end seconds of frames spaced `hop_s` apart, each `window_s` long, clipped."""
    starts = np.arange(num_frames, dtype=np.float64) * hop_s
    ends = np.minimum(starts + window_s, duration_s)
    return np.stack([starts, np.maximum(ends, starts)], axis=1).astype(np.float32)


def build_metadata(
    *,
    encoder: str,
    revision: str,
    modality: str,
    pooled: bool,
    dim: int,
    layer: LayerChoice,
    num_layers: int,
    sample_rate: int | None = None,
    extra: dict | None = None,
) -> FeatureMetadata:
    """FeatureMetadata describing what `extract` writes (dim = stored row size)."""
    from hri_emo.data.store.feature_store import FeatureMetadata

    stored_layers = num_layers if layer == "all" else 1
    return FeatureMetadata(
        encoder=encoder,
        revision=revision,
        modality=modality,
        level="pooled" if pooled else "sequence",
        dim=dim * stored_layers,
        layer=str(layer),
        sample_rate=sample_rate,
        extra={"num_layers": stored_layers, "layer_dim": dim, **(extra or {})},
    )


def encoder_metadata(encoder: Any, modality: str, **fields: Any) -> FeatureMetadata:
    """`build_metadata` of an encoder from its own attributes (name, revision, pooling, dim,
    layer, num_layers, sample_rate); `fields` named like those replace them, any other goes to
    `extra` after the pooling."""
    known = {
        "encoder": encoder.name,
        "revision": getattr(encoder, "revision", None),
        "modality": modality,
        "pooled": encoder.pooling != "none",
        "dim": encoder.dim,
        "layer": getattr(encoder, "layer", "last"),
        "num_layers": getattr(encoder, "num_layers", 1),
        "sample_rate": getattr(encoder, "sample_rate", None),
    }
    given = {k: fields.pop(k) for k in list(fields) if k in known}
    return build_metadata(**(known | given), extra={"pooling": encoder.pooling, **fields})


def cache_dir() -> Path:
    """Where converted weights are kept: $HRI_EMO_CACHE, else $XDG_CACHE_HOME/hri_emo."""
    if os.environ.get("HRI_EMO_CACHE"):
        return Path(os.environ["HRI_EMO_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hri_emo"


def model_revision(model_dir: str | Path, config: object | None = None) -> str:
    """Commit hash of a hub model, else a short hash of a local model's config + weight sizes."""
    commit = getattr(config, "_commit_hash", None)
    if commit:
        return str(commit)
    directory = Path(model_dir)
    if not directory.is_dir():
        return "unknown"
    digest = hashlib.sha256()
    for item in sorted(directory.glob("*")):
        if item.name == "config.json":
            digest.update(json.dumps(json.loads(item.read_text()), sort_keys=True).encode())
        elif item.suffix in (".safetensors", ".bin"):
            digest.update(f"{item.name}:{item.stat().st_size}".encode())
    return "local-" + digest.hexdigest()[:12]


def package_revision(package: str) -> str:
    """`name==version` of an installed package that ships weights."""
    try:
        return f"{package}=={importlib_metadata.version(package)}"
    except importlib_metadata.PackageNotFoundError:
        return f"{package}==unknown"
