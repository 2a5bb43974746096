"""Whisper encoders as frame encoders: log-mel windows in, 20 ms frames of real audio out.

Whisper sees at most 30 s at once; longer recordings are cut into 30 s windows and their frames
joined. By default a window is only as long as its audio (the positional table is sliced to the
frames needed) instead of Whisper's fixed 30 s of zero padding; `pad_to_30s=True` restores the
original behaviour. Either way only frames that cover real audio are returned, one per 20 ms.

Hidden states (layer choice): 0 = convolution output + positions, i = after encoder layer i,
the last one after the final LayerNorm (what Whisper's decoder reads).
Dimension letters: B windows, M mel frames, T encoder frames (M/2), D model size.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from hri_emo.encoders.base import (
    LayerChoice,
    check_pooling,
    encoder_metadata,
    parse_layer,
    select_hidden,
)
from hri_emo.encoders.chunks import SAMPLE_RATE, ChunkedAudioEncoder
from hri_emo.errors import ConfigError

if TYPE_CHECKING:  # transformers costs seconds to import; the CT2 route does without it
    from transformers import WhisperFeatureExtractor
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

WHISPER_CHUNK_SAMPLES = 30 * SAMPLE_RATE
FRAME_SAMPLES = 320  # one encoder frame = 2 mel hops of 10 ms = 20 ms
FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE


class WhisperLogMel:
    """Whisper's log-mel front end as transformers' `WhisperFeatureExtractor` computes it (its
    torch route: the same STFT, Slaney mel filters, log10, 8-decade floor and scaling; tested
    to 1e-5), without importing transformers. Called like it for `WhisperFrameEncoder.log_mel`."""

    def __init__(self, feature_size: int = 80, n_fft: int = 400, hop_length: int = 160) -> None:
        from faster_whisper.feature_extractor import FeatureExtractor  # numpy only

        self.n_fft, self.hop_length = n_fft, hop_length
        self.n_samples = WHISPER_CHUNK_SAMPLES
        filters = FeatureExtractor.get_mel_filters(SAMPLE_RATE, n_fft, feature_size)
        self.mel_filters = torch.from_numpy(np.asarray(filters, np.float32))  # (n_mels, F)

    def __call__(self, pieces: list[np.ndarray], padding: str = "max_length", **_: Any):
        length = self.n_samples if padding == "max_length" else max(len(p) for p in pieces)
        batch = np.zeros((len(pieces), length), np.float32)
        for b, piece in enumerate(pieces):
            batch[b, : len(piece)] = piece[:length]
        waveform = torch.from_numpy(batch)
        window = torch.hann_window(self.n_fft)
        stft = torch.stft(waveform, self.n_fft, self.hop_length, window=window, return_complex=True)
        magnitudes = (stft[..., :-1].abs() ** 2).contiguous()  # (B, F, M)
        log_spec = torch.clamp(self.mel_filters @ magnitudes, min=1e-10).log10()
        peak = log_spec.amax(dim=(1, 2), keepdim=True)  # per recording
        log_spec = (torch.maximum(log_spec, peak - 8.0) + 4.0) / 4.0
        return SimpleNamespace(input_features=log_spec)


class WhisperFrameEncoder(ChunkedAudioEncoder):
    """Shared Whisper front end; subclasses implement `run_encoder` (mels -> hidden states)."""

    chunk_samples = WHISPER_CHUNK_SAMPLES
    hop = receptive_field = FRAME_SAMPLES

    def __init__(
        self,
        feature_extractor: WhisperFeatureExtractor | WhisperLogMel,
        name: str,
        revision: str,
        layer: str | int,
        pooling: str,
        pad_to_30s: bool,
        dim: int,
        num_layers: int,
        batch_size: int = 8,
    ) -> None:
        self.feature_extractor = feature_extractor
        self.name = name
        self.revision = revision
        self.layer: LayerChoice = parse_layer(layer)
        self.pooling = check_pooling(pooling, ("none", "mean"))
        self.pad_to_30s = pad_to_30s
        self.dim = dim
        self.num_layers = num_layers
        self.batch_size = batch_size

    @property
    def metadata(self):
        return encoder_metadata(
            self, "audio", frame_seconds=FRAME_SECONDS, pad_to_30s=self.pad_to_30s
        )

    def run_encoder(self, mels: torch.Tensor) -> list[torch.Tensor]:
        """mels (B, n_mels, M) -> hidden states, each (B, ceil(M/2), D)."""
        raise NotImplementedError

    def _hidden(self, pieces: list[np.ndarray]) -> torch.Tensor:
        return select_hidden(tuple(self.run_encoder(self.log_mel(pieces))), self.layer)

    def log_mel(self, pieces: list[np.ndarray]) -> torch.Tensor:
        """Whisper log-mel features (B, n_mels, M), M = 3000 if padded to 30 s else N // 160."""
        padding = "max_length" if self.pad_to_30s else "longest"
        return self.feature_extractor(
            pieces, sampling_rate=SAMPLE_RATE, padding=padding, return_tensors="pt"
        ).input_features


def whisper_hidden_states(encoder: WhisperEncoder, mels: torch.Tensor) -> list[torch.Tensor]:
    """Run a transformers WhisperEncoder on any window up to its 30 s (differentiable).

    mels (B, n_mels, M) -> L+1 hidden states (B, T, D), T = ceil(M / 2); the positional table
    is sliced to T instead of insisting on M = 3000 as `WhisperEncoder.forward` does.
    """
    x = nn.functional.gelu(encoder.conv1(mels))  # (B, D, M)
    x = nn.functional.gelu(encoder.conv2(x)).permute(0, 2, 1)  # (B, T, D)
    if x.shape[1] > encoder.embed_positions.num_embeddings:
        raise ConfigError(
            f"Whisper window of {x.shape[1]} frames exceeds the encoder's "
            f"{encoder.embed_positions.num_embeddings} positions (30 s)"
        )
    x = x + encoder.embed_positions.weight[: x.shape[1]]
    states = [x]
    for layer in encoder.layers:
        x = layer(x, None)
        states.append(x)
    states[-1] = encoder.layer_norm(x)
    return states


class HFWhisperEncoder(WhisperFrameEncoder):
    """Any transformers WhisperEncoder (the converted embedded tiny.en, or a hub checkpoint)."""

    def __init__(
        self,
        encoder: WhisperEncoder,
        feature_extractor: WhisperFeatureExtractor,
        name: str,
        revision: str,
        layer: str | int = "last",
        pooling: str = "none",
        pad_to_30s: bool = False,
        batch_size: int = 8,
    ) -> None:
        self.encoder = encoder.eval()
        config = encoder.config
        super().__init__(
            feature_extractor=feature_extractor,
            name=name,
            revision=revision,
            layer=layer,
            pooling=pooling,
            pad_to_30s=pad_to_30s,
            dim=int(config.d_model),
            num_layers=int(config.encoder_layers) + 1,
            batch_size=batch_size,
        )

    def run_encoder(self, mels: torch.Tensor) -> list[torch.Tensor]:
        device = self.encoder.conv1.weight.device
        return [s.cpu() for s in whisper_hidden_states(self.encoder, mels.to(device))]
