"""Cut waves into bounded windows, batch windows of equal length, and join the frames back.

Audio encoders see at most `chunk_samples` at a time (Whisper: its 30 s window; other models:
a memory bound), so a ten-minute recording costs the memory of one window. Windows of equal
length are batched together; no padding is added, so a result never depends on what else was in
the batch.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from hri_emo.encoders.base import EncodedAudio, frame_spans
from hri_emo.errors import AudioError

SAMPLE_RATE = 16_000


@dataclass
class AudioChunk:
    """One window of one wave: `samples` start `offset` samples into wave `wave_index`."""

    wave_index: int
    offset: int
    samples: np.ndarray  # (N,) float32


def check_waves(waves: list[np.ndarray]) -> None:
    """Encoders take (N,) float waves with sound; name the culprit otherwise."""
    for index, wave in enumerate(waves):
        if not isinstance(wave, np.ndarray) or wave.ndim != 1:
            shape = getattr(wave, "shape", type(wave).__name__)
            raise AudioError(f"wave #{index}: expected a 1-D mono array (N,), got {shape}")
        if wave.size == 0:
            raise AudioError(f"wave #{index} is empty: 0 samples")
        if not np.isfinite(wave).all():
            raise AudioError(f"wave #{index} contains NaN or infinite samples")


def split_into_chunks(
    waves: list[np.ndarray], chunk_samples: int, min_samples: int = 1
) -> list[AudioChunk]:
    """Windows of at most `chunk_samples`; a too-short window is zero-padded to `min_samples`."""
    chunks = []
    for index, wave in enumerate(waves):
        for offset in range(0, len(wave), chunk_samples):
            piece = np.asarray(wave[offset : offset + chunk_samples], dtype=np.float32)
            chunks.append(AudioChunk(index, offset, piece))
    for chunk in chunks:
        if len(chunk.samples) < min_samples:
            chunk.samples = np.pad(chunk.samples, (0, min_samples - len(chunk.samples)))
    return chunks


def batches_of_equal_length(
    chunks: list[AudioChunk], batch_size: int
) -> Iterator[list[AudioChunk]]:
    """Groups of at most `batch_size` chunks that all have the same number of samples."""
    by_length: dict[int, list[AudioChunk]] = defaultdict(list)
    for chunk in chunks:
        by_length[len(chunk.samples)].append(chunk)
    for group in by_length.values():
        for start in range(0, len(group), batch_size):
            yield group[start : start + batch_size]


@dataclass
class ChunkFrames:
    """Encoder output of one chunk: features (T, D) or (L+1, T, D) of the frames kept."""

    chunk: AudioChunk
    features: np.ndarray


def assemble(
    results: list[ChunkFrames],
    waves: list[np.ndarray],
    hop_s: float,
    window_s: float,
    pooled: bool,
) -> list[EncodedAudio]:
    """Join chunk frames into one EncodedAudio per wave, with frame times in seconds."""
    per_wave: dict[int, list[ChunkFrames]] = defaultdict(list)
    for result in results:
        per_wave[result.chunk.wave_index].append(result)
    encoded = []
    for index, wave in enumerate(waves):
        parts = sorted(per_wave[index], key=lambda r: r.chunk.offset)
        duration = len(wave) / SAMPLE_RATE
        features = np.concatenate([p.features for p in parts], axis=-2)  # (..., T, D)
        times = np.concatenate(
            [
                frame_spans(p.features.shape[-2], hop_s, window_s, duration - offset_s) + offset_s
                for p in parts
                for offset_s in [p.chunk.offset / SAMPLE_RATE]
            ]
        )
        if pooled:
            encoded.append(EncodedAudio(features.mean(axis=-2), None))
        else:
            encoded.append(EncodedAudio(features, times))
    return encoded


class ChunkedAudioEncoder:
    """Base of the encoders that run a network on windows of the wave (wav2vec2 family, Whisper).

    Subclasses set `chunk_samples` (window length), `hop` (samples per output frame),
    `receptive_field` (samples each frame sees; a shorter window is zero-padded to it),
    `batch_size` and `pooling`, and implement `_hidden`.
    """

    modality = "audio"
    sample_rate = SAMPLE_RATE
    chunk_samples: int
    hop: int
    receptive_field: int
    batch_size: int
    pooling: str

    def _hidden(self, pieces: list[np.ndarray]) -> torch.Tensor:
        """Equal-length windows -> hidden states (B, [L+1,] T, D) of the chosen layer(s)."""
        raise NotImplementedError

    @torch.no_grad()
    def encode(self, waves: list[np.ndarray]) -> list[EncodedAudio]:
        """One EncodedAudio per wave (float32, mono, 16 kHz): (T, D) frames + (T, 2) times;
        only frames that start inside real audio are kept."""
        check_waves(waves)
        chunks = split_into_chunks(waves, self.chunk_samples, min_samples=self.receptive_field)
        results = []
        for batch in batches_of_equal_length(chunks, self.batch_size):
            hidden = self._hidden([c.samples for c in batch])  # (B, [L+1,] T, D)
            for b, chunk in enumerate(batch):
                kept = min(math.ceil(len(chunk.samples) / self.hop), hidden.shape[-2])
                results.append(ChunkFrames(chunk, hidden[b, ..., :kept, :].float().numpy()))
        hop_s, window_s = self.hop / SAMPLE_RATE, self.receptive_field / SAMPLE_RATE
        return assemble(results, waves, hop_s, window_s, pooled=self.pooling == "mean")
