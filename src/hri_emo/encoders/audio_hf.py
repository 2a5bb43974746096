"""Audio encoders over any Hugging Face speech model (id or local path), offline first.

wav2vec 2.0, HuBERT, WavLM and relatives load through AutoFeatureExtractor + AutoModel; their
convolutional front end gives one frame per `prod(conv_stride)` samples (20 ms), each seeing
`receptive_field` samples (25 ms). Whisper checkpoints are routed to `HFWhisperEncoder`.
Recordings longer than `chunk_seconds` are encoded window by window (memory-bounded).

Dimension letters: B windows, N samples, T frames, D hidden size, L layers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from transformers import AutoConfig, AutoFeatureExtractor, AutoModel, PreTrainedModel

from hri_emo.encoders.base import (
    LayerChoice,
    check_pooling,
    encoder_metadata,
    model_revision,
    parse_layer,
    select_hidden,
)
from hri_emo.encoders.chunks import SAMPLE_RATE, ChunkedAudioEncoder
from hri_emo.encoders.whisper_frames import HFWhisperEncoder
from hri_emo.errors import ConfigError


def _local_only(path: str, allow_download: bool) -> bool:
    return not allow_download or Path(path).exists()


def _load_failed(name: str, err: OSError) -> ConfigError:
    return ConfigError(
        f"audio model {name!r} is neither a local folder nor in the local Hugging Face cache "
        f"(no download at run time; pass allow_download=True to fetch it): {err}"
    )


def conv_geometry(config) -> tuple[int, int]:
    """(hop, receptive field) in samples of a wav2vec2-style convolutional feature encoder."""
    hop, field = 1, 1
    for kernel, stride in zip(config.conv_kernel, config.conv_stride):
        field += (kernel - 1) * hop
        hop *= stride
    return hop, field


class HFAudioEncoder(ChunkedAudioEncoder):
    """Frozen wav2vec2-family encoder: `encode(waves)` -> frames (T, D) with their times."""

    def __init__(
        self,
        name: str,
        layer: str | int = "last",
        pooling: str = "none",
        batch_size: int = 8,
        chunk_seconds: float = 30.0,
        device: str = "cpu",
        allow_download: bool = False,
    ) -> None:
        self.name = name
        self.layer: LayerChoice = parse_layer(layer)
        self.pooling = check_pooling(pooling, ("none", "mean"))
        self.batch_size = batch_size
        self.device = torch.device(device)
        local_only = _local_only(name, allow_download)
        try:
            self.feature_extractor = AutoFeatureExtractor.from_pretrained(
                name, local_files_only=local_only
            )
            self.model: PreTrainedModel = AutoModel.from_pretrained(
                name, local_files_only=local_only
            )
        except OSError as err:
            raise _load_failed(name, err) from err
        self.model.eval().to(self.device)
        config = self.model.config
        if not hasattr(config, "conv_stride"):
            raise ConfigError(
                f"audio model {name!r} ({config.model_type}) has no convolutional waveform "
                "front end; expected wav2vec 2.0 / HuBERT / WavLM or a Whisper checkpoint"
            )
        self.hop, self.receptive_field = conv_geometry(config)
        self.chunk_samples = int(chunk_seconds * SAMPLE_RATE) // self.hop * self.hop
        self.dim = int(config.hidden_size)
        self.num_layers = int(config.num_hidden_layers) + 1
        self.revision = model_revision(name, config)

    @property
    def metadata(self):
        return encoder_metadata(self, "audio", frame_seconds=self.hop / SAMPLE_RATE)

    def _hidden(self, pieces: list[np.ndarray]) -> torch.Tensor:
        inputs = self.feature_extractor(pieces, sampling_rate=SAMPLE_RATE, return_tensors="pt")
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        output = self.model(**inputs, output_hidden_states=True)
        return select_hidden(output.hidden_states, self.layer).cpu()


def create_hf_audio_encoder(
    name: str,
    layer: str | int = "last",
    pooling: str = "none",
    batch_size: int = 8,
    device: str = "cpu",
    allow_download: bool = False,
    pad_to_30s: bool = False,
    chunk_seconds: float = 30.0,
):
    """HFAudioEncoder, or HFWhisperEncoder when `name` is a Whisper checkpoint."""
    local_only = _local_only(name, allow_download)
    try:
        config = AutoConfig.from_pretrained(name, local_files_only=local_only)
    except OSError as err:
        raise _load_failed(name, err) from err
    if config.model_type != "whisper":
        return HFAudioEncoder(
            name, layer, pooling, batch_size, chunk_seconds, device, allow_download
        )
    from transformers import WhisperFeatureExtractor, WhisperModel

    try:
        model = WhisperModel.from_pretrained(name, local_files_only=local_only)
        extractor = WhisperFeatureExtractor.from_pretrained(name, local_files_only=local_only)
    except OSError as err:
        raise _load_failed(name, err) from err
    encoder = model.get_encoder().to(device)
    return HFWhisperEncoder(
        encoder,
        extractor,
        name=name,
        revision=model_revision(name, config),
        layer=layer,
        pooling=pooling,
        pad_to_30s=pad_to_30s,
        batch_size=batch_size,
    )
