"""One utterance's features, their layout and the recipe that makes them model-ready.

`UtteranceFeatures` is one utterance's features of one modality, stored or just encoded: (T, D)
or pooled (D,) float32, with word tokens and (T, 2) frame times. Layered encoder output "all",
(L+1, T, D), is kept as (T, (L+1)*D), layer-major (`flatten_layers` / `split_layers`).

    >>> layers = np.arange(24.0).reshape(2, 3, 4)  # (L+1, T, D): 2 layers, 3 words, 4 dims
    >>> flat = flatten_layers(layers, "all")  # (T, (L+1)*D)
    >>> flat.shape, bool((split_layers(flat, 2) == layers).all())
    ((3, 8), True)

`FeatureSpec` is the training-time recipe of a model's input features: where each modality came
from (features.json), the standardisation statistics, the reader's text preprocessing and the
truncation limits. `prepare` turns encoder output (or user-given arrays) into exactly what
EmotionDataset feeds the model: standardise, make pooled (D,) a (1, D) sequence, then truncate
text to its first `max_text_len` positions (`truncate_text`) and average-pool audio in time to
`max_audio_len` frames (`pool_audio`). Training (data/dataset.py) and inference share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hri_emo.data.normalization import FeatureStandardizer
from hri_emo.errors import FeatureMismatchError

MODALITIES = ("text", "audio")
RECORD_SOURCE = "record"  # features.json entry of precomputed manifest columns


@dataclass
class UtteranceFeatures:
    """One utterance's features: (T, D) or (D,) float32, word tokens and (T, 2) frame times."""

    features: np.ndarray
    tokens: list[str] | None = None
    frame_times: np.ndarray | None = None

    @property
    def length(self) -> int:
        """Number of positions (1 for a pooled vector)."""
        return 1 if self.features.ndim == 1 else int(self.features.shape[0])

    def nbytes(self) -> int:
        extra = 0 if self.frame_times is None else self.frame_times.nbytes
        return int(self.features.nbytes) + extra + sum(len(t) for t in self.tokens or [])


def flatten_layers(features: np.ndarray, layer: str | int) -> np.ndarray:
    """Store layout: (L+1, T, D) -> (T, (L+1)*D) and (L+1, D) -> ((L+1)*D,); others unchanged."""
    if layer != "all":
        return features
    if features.ndim == 2:  # pooled (L+1, D)
        return features.reshape(-1)
    return np.ascontiguousarray(features.transpose(1, 0, 2).reshape(features.shape[1], -1))


def split_layers(features: np.ndarray, num_layers: int) -> np.ndarray:
    """Inverse of `flatten_layers`: (T, (L+1)*D) -> (L+1, T, D), ((L+1)*D,) -> (L+1, D)."""
    if features.shape[-1] % num_layers:
        raise FeatureMismatchError(
            f"feature size {features.shape[-1]} is not a multiple of num_layers={num_layers}"
        )
    if features.ndim == 1:
        return features.reshape(num_layers, -1)
    return features.reshape(features.shape[0], num_layers, -1).transpose(1, 0, 2)


def truncate_text(stored: UtteranceFeatures, max_len: int | None) -> UtteranceFeatures:
    """Keep the first `max_len` positions (and tokens, frame times) of a (T, D) sequence."""
    if max_len is None or stored.length <= max_len:
        return stored
    return UtteranceFeatures(
        stored.features[:max_len],
        None if stored.tokens is None else stored.tokens[:max_len],
        None if stored.frame_times is None else stored.frame_times[:max_len],
    )


def pool_audio(stored: UtteranceFeatures, max_len: int | None) -> UtteranceFeatures:
    """Average-pool a (T, D) sequence in time to `max_len` chunks when T > max_len."""
    if max_len is None or stored.length <= max_len:
        return stored
    starts = np.linspace(0, stored.length, max_len + 1).astype(np.int64)[:-1]  # (max_len,)
    counts = np.diff(np.append(starts, stored.length))[:, None]  # (max_len, 1), all >= 1
    features = np.add.reduceat(stored.features, starts, axis=0) / counts  # (max_len, D)
    times = None
    if stored.frame_times is not None:
        ends = starts + counts[:, 0] - 1
        times = np.stack([stored.frame_times[starts, 0], stored.frame_times[ends, 1]], axis=1)
    return UtteranceFeatures(features.astype(np.float32), stored.tokens, times)


@dataclass
class FeatureSpec:
    """The training-time recipe of the model's input features.

    `features`: the checkpoint's features.json, or None for a bare `save_pretrained` folder (the
    embedded default encoders, no standardisation). `finetuned_text`: the checkpoint has its own
    fine-tuned text encoder (text features come from it, not from features.json).
    """

    features: dict[str, Any] | None = None
    standardizers: dict[str, FeatureStandardizer] = field(default_factory=dict)
    lowercase_text: bool = False
    max_text_len: int | None = None
    max_audio_len: int | None = None
    finetuned_text: bool = False

    @classmethod
    def from_checkpoint(cls, ckpt: Any) -> FeatureSpec:
        """The spec of a checkpoint folder (`hri_emo.checkpoint.read_checkpoint`)."""
        return cls(
            features=dict(ckpt.features),
            standardizers=dict(ckpt.standardizers),
            lowercase_text=ckpt.inputs.lowercase_text,
            max_text_len=ckpt.inputs.max_text_len,
            max_audio_len=ckpt.inputs.max_audio_len,
            finetuned_text=ckpt.text_encoder is not None,
        )

    def metadata(self, modality: str) -> dict[str, Any] | None:
        """The features.json entry of `modality` (None: default encoder or unused modality)."""
        return None if self.features is None else self.features.get(modality)

    def is_used(self, modality: str) -> bool:
        """False when the model was trained without this modality."""
        if self.features is None or (modality == "text" and self.finetuned_text):
            return True
        return self.metadata(modality) is not None

    def is_record(self, modality: str) -> bool:
        """True when training read this modality from precomputed record (manifest) columns."""
        entry = self.metadata(modality)
        return entry is not None and entry.get("source") == RECORD_SOURCE

    def preprocess_text(self, text: str) -> str:
        """The reader's transcript preprocessing (`data.reader_options.lowercase_text`)."""
        return text.lower() if self.lowercase_text else text

    def record_error(self, modality: str) -> FeatureMismatchError:
        dim = (self.metadata(modality) or {}).get("dim")
        given = "a transcript" if modality == "text" else "a recording"
        return FeatureMismatchError(
            f"{modality}: this model was trained on precomputed per-utterance {modality} "
            f"features ({dim}-d '{modality}_*' columns of the training manifest, data."
            f"{modality}_features=record), which cannot be computed from {given}. Compute the "
            f"same {dim} values for this utterance and call classify_features("
            f"{modality}_features=...), or leave the {modality} input out"
        )

    def prepare(
        self,
        modality: str,
        features: np.ndarray,
        tokens: list[str] | None = None,
        frame_times: np.ndarray | None = None,
        raw_text: str | None = None,
    ) -> UtteranceFeatures:
        """Standardise, make pooled (D,) a (1, D) sequence and truncate, as EmotionDataset does
        (its one text token is the transcript)."""
        standardizer = self.standardizers.get(modality)
        if standardizer is not None:
            features = standardizer.apply(features)
        features = np.asarray(features, dtype=np.float32)
        if features.ndim == 1:
            text = " ".join(tokens) if tokens else raw_text
            tokens = None if text is None else [text]
            if frame_times is not None and frame_times.shape[0] != 1:
                frame_times = np.array([[frame_times[0, 0], frame_times[-1, 1]]])
            features = features[None, :]
        stored = UtteranceFeatures(features, tokens, frame_times)
        if modality == "text":
            return truncate_text(stored, self.max_text_len)
        return pool_audio(stored, self.max_audio_len)
