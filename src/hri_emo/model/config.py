"""Typed configuration of every model in the registry (one dataclass, saved as JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Literal

from hri_emo.errors import ConfigError

MOSEI_EMOTIONS = ["happy", "sad", "anger", "surprise", "disgust", "fear"]


@dataclass
class HriEmoConfig:
    """Hyper-parameters of an HRI-EMO model or baseline.

    `architecture` selects the model class in the registry (hriemo, text_only, audio_only,
    early_fusion, late_fusion); `name` is the preset it came from. Input dimensions must match
    the features (a wrong dimension is a clear error at forward time).
    """

    name: str = "hriemo-v1"
    architecture: str = "hriemo"
    text_dim: int = 384
    audio_dim: int = 384
    # Encoder layers stacked in the feature dimension (a `layer="all"` extraction): > 1 adds a
    # learned weighted sum of the layers (LayerMix) before the projection. Set by training from
    # the feature store's metadata.
    text_layers: int = 1
    audio_layers: int = 1
    emotions: list[str] = field(default_factory=lambda: list(MOSEI_EMOTIONS))
    task: Literal["multilabel", "singlelabel"] = "multilabel"
    hidden_dim: int = 128
    num_heads: int = 4
    num_fusion_layers: int = 2
    num_decoder_layers: int = 1
    ff_mult: int = 2
    # "cross_modal": intra-modal self-attention + bidirectional cross-attention per layer.
    # "simplified": text->audio cross-attention only (the robust v2 fusion).
    fusion: Literal["cross_modal", "simplified"] = "cross_modal"
    # "simplified" only: add the audio context to the text stream through a residual (True), or
    # let the BetaGate alone bring audio in (False; then beta = 0 means the text alone).
    audio_residual: bool = True
    dropout: float = 0.1
    attention_dropout: float = 0.1
    input_dropout: float = 0.0  # dropout on projected inputs (v2 uses a high value)
    # Cost per unit of mean beta (items with both modalities) added to the loss: audio is let in
    # only where it lowers the task loss by more, so beta reads as "how much audio was needed".
    beta_cost: float = 0.0
    # hriemo only: add a linear read-out of each modality's mean-pooled input features to the
    # logits, weighted by the item's mean beta (model/pooled.py). A probe of pooled features is
    # the strongest classifier on small corpora; this keeps the model at least that good.
    pooled_readout: bool = False
    pooled_dropout: float = 0.0  # dropout on the pooled vectors of that read-out
    # hriemo with pooled_readout only: False leaves the emotion decoder's logits out, so each
    # logit is the gated pooled read-outs alone, (1 - beta) * text probe + beta * audio probe:
    # two linear experts and the gate that chooses between them, trained jointly (the
    # `experts` candidate of train.readout_fit: select). Past turns (context_turns > 0) add
    # their own term (model/context.py).
    decoder_logits: bool = True
    positional: bool = True  # sinusoidal positions added to sequence inputs
    intensity_head: bool = False  # extra per-emotion regression of 0..3 intensities
    intensity_loss_weight: float = 1.0
    intensity_max: float = 3.0  # predicted intensities lie in [0, intensity_max] (MOSEI: 3)
    pos_weight: list[float] | None = None  # BCE positive weights per emotion (multi-label)
    class_weights: list[float] | None = None  # CE class weights (single-label)
    # > 0: the emotion queries also attend to up to this many preceding turns of the dialogue
    # (pooled text of each; set by training from data.context_turns). hriemo only.
    context_turns: int = 0
    # With context_turns > 0: each past turn also carries its pooled audio features (set by
    # training from data.context_audio), projected apart from its text and added to it.
    context_audio: bool = False
    # > 0 (seconds): the text->audio attention gets a Gaussian log-prior around each word's
    # spoken span (model/time_prior.py), so the alignment map locates words. Needs word times
    # (`text_times`) and frame times (`audio_times`); without them the prior is off. hriemo only.
    time_prior_s: float = 0.0
    # The prior's width as a fraction of the word's half-width (plus time_prior_s): 0.5 reaches
    # -2 at the span's edges (the content attention can pick any frame of the span), 0.25 -8
    # (it stays in the word's central half, where the aligner's span is most often right).
    time_prior_width: float = 0.5
    # hriemo only: logit_i = sum_j a_ij * (w_i . h_j) + b_i, where a_ij is emotion i's decoder
    # attention on fused position j: each logit decomposes exactly over words and, through the
    # alignment, over audio frames (the attribution maps are the computation, not a proxy).
    additive_readout: bool = False
    # hriemo only, > 0: weight of gate supervision (model/gate_supervision.py): the forced
    # text-only and audio-only branches are trained too, and each utterance's mean beta is
    # pulled toward the modality whose branch explains its label better.
    gate_supervision: float = 0.0
    # hriemo only, > 0: weight of the audio-reliability loss (model/reliability.py): a head on the
    # audio frames learns how clean they are from training items of known SNR, and each word's
    # beta is scaled by the reliability of the frames it listens to. 0 = off.
    audio_reliability: float = 0.0
    # hriemo only, > 0: weight of the transcript-reliability loss (model/reliability.py): a head
    # on the word rate (words per second of the recording) learns how complete the transcript
    # is, and the text's share of the gate shrinks with it. Needs frame times. 0 = off.
    transcript_reliability: float = 0.0

    @property
    def num_emotions(self) -> int:
        return len(self.emotions)

    def validate(self) -> None:
        """Raise ConfigError naming the first field whose value cannot build a model."""
        checks = [
            (self.task in ("multilabel", "singlelabel"), "task", "'multilabel' or 'singlelabel'"),
            (
                self.fusion in ("cross_modal", "simplified"),
                "fusion",
                "'cross_modal' or 'simplified'",
            ),
            (self.num_emotions >= 1, "emotions", "at least one emotion name"),
            (len(set(self.emotions)) == self.num_emotions, "emotions", "unique names"),
            (min(self.text_dim, self.audio_dim) >= 1, "text_dim/audio_dim", "positive integers"),
            (self.hidden_dim >= 1, "hidden_dim", ">= 1"),
            (self.num_heads >= 1, "num_heads", ">= 1"),
            (
                self.num_heads < 1 or self.hidden_dim % self.num_heads == 0,
                "hidden_dim",
                "a multiple of num_heads",
            ),
            (self.num_fusion_layers >= 1, "num_fusion_layers", ">= 1"),
            (self.num_decoder_layers >= 1, "num_decoder_layers", ">= 1"),
            (self.ff_mult >= 1, "ff_mult", ">= 1"),
            (
                self.audio_residual
                or (self.fusion == "simplified" and self.num_fusion_layers == 1),
                "audio_residual",
                "True unless fusion='simplified' with num_fusion_layers=1 (without the residual "
                "only the last layer's audio context is used)",
            ),
            (
                self.text_layers >= 1 and self.text_dim % self.text_layers == 0,
                "text_layers",
                f">= 1 and a divisor of text_dim={self.text_dim}",
            ),
            (
                self.audio_layers >= 1 and self.audio_dim % self.audio_layers == 0,
                "audio_layers",
                f">= 1 and a divisor of audio_dim={self.audio_dim}",
            ),
            (self.intensity_max > 0, "intensity_max", "> 0"),
            (self.beta_cost >= 0, "beta_cost", ">= 0"),
            (self.context_turns >= 0, "context_turns", ">= 0"),
            (
                not self.context_audio or self.context_turns > 0,
                "context_audio",
                "False unless context_turns > 0 (audio of past turns needs past turns)",
            ),
            (self.time_prior_s >= 0, "time_prior_s", ">= 0 seconds (0 = off)"),
            (self.time_prior_width >= 0, "time_prior_width", ">= 0 (a fraction of half a word)"),
            (self.gate_supervision >= 0, "gate_supervision", ">= 0 (0 = off)"),
            (self.audio_reliability >= 0, "audio_reliability", ">= 0 (0 = off)"),
            (self.transcript_reliability >= 0, "transcript_reliability", ">= 0 (0 = off)"),
            (
                self.decoder_logits or self.pooled_readout,
                "decoder_logits",
                "True unless pooled_readout is on (without the decoder's logits the pooled "
                "read-outs are the whole output)",
            ),
        ]
        for rate_name in ("dropout", "attention_dropout", "input_dropout", "pooled_dropout"):
            rate = getattr(self, rate_name)
            checks.append((0.0 <= rate < 1.0, rate_name, "a rate in [0, 1)"))
        for weights_name in ("pos_weight", "class_weights"):
            weights = getattr(self, weights_name)
            ok = weights is None or len(weights) == self.num_emotions
            checks.append(
                (ok, weights_name, f"None or {self.num_emotions} values (one per emotion)")
            )
        for ok, name, expected in checks:
            if not ok:
                raise ConfigError(
                    f"invalid model config {self.name!r}: {name} must be {expected}, "
                    f"got {getattr(self, name.split('/')[0])!r}",
                    key=name.split("/")[0],
                )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> HriEmoConfig:
        if not isinstance(values, dict):
            raise ConfigError(f"a model config must be a JSON object, got {type(values).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown HriEmoConfig field(s): {', '.join(unknown)}")
        defaults = cls()
        for name, value in values.items():
            _check_type(name, value, getattr(defaults, name))
        return cls(**values)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> HriEmoConfig:
        return cls.from_dict(json.loads(Path(path).read_text()))


def _check_type(name: str, value: object, default: object) -> None:
    """ConfigError when `value` has not the JSON type of the field (whose default is given):
    "sixty-four" or "384" for an integer, 1 for a boolean, a string for a list of names."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, bool):
        ok, expected = isinstance(value, bool), "true or false"
    elif isinstance(default, int):
        ok, expected = isinstance(value, int) and not isinstance(value, bool), "an integer"
    elif isinstance(default, float):
        ok, expected = number, "a number"
    elif isinstance(default, str):
        ok, expected = isinstance(value, str), "a string"
    elif name == "emotions":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        expected = "a list of emotion names"
    else:  # pos_weight, class_weights: None or numbers
        ok = value is None or (
            isinstance(value, list)
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        )
        expected = "null or a list of numbers"
    if not ok:
        raise ConfigError(
            f"{name} must be {expected}, got {value!r} ({type(value).__name__})", key=name
        )
