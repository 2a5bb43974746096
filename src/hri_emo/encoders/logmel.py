"""Log-mel filterbank frames: 80 mel bands, 25 ms Hann windows every 10 ms (torch.stft).

A classic, model-free audio representation (no weights). Frame t covers exactly
[t * 10 ms, t * 10 ms + 25 ms) of the recording (no centring), so frame times are exact.
"""

from __future__ import annotations

import numpy as np
import torch
from transformers.audio_utils import mel_filter_bank

from hri_emo.encoders.base import (
    EncodedAudio,
    check_pooling,
    encoder_metadata,
    frame_spans,
)
from hri_emo.encoders.chunks import SAMPLE_RATE, check_waves
from hri_emo.errors import ConfigError

WINDOW_SAMPLES = 400  # 25 ms
HOP_SAMPLES = 160  # 10 ms
MEL_FLOOR = 1e-10


class LogMelEncoder:
    """`encode(waves)` -> (T, n_mels) natural-log mel energies, or their mean over frames."""

    modality = "audio"
    sample_rate = SAMPLE_RATE

    def __init__(self, n_mels: int = 80, layer: str | int = "last", pooling: str = "none"):
        if layer != "last":
            raise ConfigError(f"'logmel' has no layers; got layer={layer!r} (use 'last')")
        self.name = "logmel"
        self.layer = "last"
        self.pooling = check_pooling(pooling, ("none", "mean"))
        self.dim = n_mels
        filters = mel_filter_bank(
            num_frequency_bins=WINDOW_SAMPLES // 2 + 1,
            num_mel_filters=n_mels,
            min_frequency=0.0,
            max_frequency=SAMPLE_RATE / 2,
            sampling_rate=SAMPLE_RATE,
            norm="slaney",
            mel_scale="slaney",
        )
        self.filters = torch.from_numpy(filters.astype(np.float32))  # (F, n_mels)
        self.window = torch.hann_window(WINDOW_SAMPLES)

    @property
    def metadata(self):
        return encoder_metadata(
            self, "audio", revision="stft400-hop160-slaney", frame_seconds=HOP_SAMPLES / SAMPLE_RATE
        )

    def encode(self, waves: list[np.ndarray]) -> list[EncodedAudio]:
        check_waves(waves)
        return [self._encode_one(wave) for wave in waves]

    def _encode_one(self, wave: np.ndarray) -> EncodedAudio:
        samples = torch.from_numpy(np.asarray(wave, dtype=np.float32))
        if len(samples) < WINDOW_SAMPLES:
            samples = torch.nn.functional.pad(samples, (0, WINDOW_SAMPLES - len(samples)))
        spectrum = torch.stft(
            samples,
            n_fft=WINDOW_SAMPLES,
            hop_length=HOP_SAMPLES,
            window=self.window,
            center=False,
            return_complex=True,
        )  # (F, T)
        power = spectrum.abs().pow(2).T  # (T, F)
        log_mel = torch.log((power @ self.filters).clamp(min=MEL_FLOOR)).numpy()  # (T, n_mels)
        if self.pooling == "mean":
            return EncodedAudio(log_mel.mean(axis=0), None)
        times = frame_spans(
            len(log_mel),
            HOP_SAMPLES / SAMPLE_RATE,
            WINDOW_SAMPLES / SAMPLE_RATE,
            len(wave) / SAMPLE_RATE,
        )
        return EncodedAudio(log_mel, times)
