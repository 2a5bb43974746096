"""`ChunkedAudioEncoder`: the window loop every network audio encoder shares (HF, Whisper)."""

from __future__ import annotations

import numpy as np
import torch

from hri_emo.encoders.chunks import ChunkedAudioEncoder


class FrameEnergy(ChunkedAudioEncoder):
    """RMS energy of 25 ms frames every 20 ms on windows of 0.1 s: a windowed encoder that
    needs only its geometry and `_hidden`."""

    chunk_samples, hop, receptive_field, batch_size, pooling = 1600, 320, 400, 2, "none"

    def _hidden(self, pieces: list[np.ndarray]) -> torch.Tensor:
        frames = torch.from_numpy(np.stack(pieces)).unfold(-1, self.receptive_field, self.hop)
        return frames.pow(2).mean(-1, keepdim=True).sqrt()  # (B, T, 1)


def test_windows_are_encoded_and_joined_with_their_times():
    rng = np.random.default_rng(0)
    wave = rng.standard_normal(4000).astype(np.float32)
    short = rng.standard_normal(200).astype(np.float32)
    encoded, tiny = FrameEnergy().encode([wave, short])
    starts = [0, 320, 640, 960, 1600, 1920, 2240, 2560, 3200, 3520]  # windows 1600, 1600, 800
    assert encoded.features.shape == (len(starts), 1)
    np.testing.assert_allclose(encoded.frame_times[:, 0], np.array(starts) / 16000, atol=1e-7)
    lengths = encoded.frame_times[:, 1] - encoded.frame_times[:, 0]
    np.testing.assert_allclose(lengths, 0.025, atol=1e-7)
    expected = [np.sqrt(np.mean(wave[s : s + 400] ** 2)) for s in starts]
    np.testing.assert_allclose(encoded.features[:, 0], expected, rtol=1e-5)
    # shorter than one frame: zero-padded to the receptive field, its frame ends with the wave
    np.testing.assert_allclose(tiny.features, [[np.sqrt(np.sum(short**2) / 400)]], rtol=1e-5)
    np.testing.assert_allclose(tiny.frame_times, [[0.0, 200 / 16000]], atol=1e-7)


def test_mean_pooling_averages_the_kept_frames():
    wave = np.random.default_rng(1).standard_normal(4000).astype(np.float32)
    frames = FrameEnergy().encode([wave])[0]
    pooled_encoder = FrameEnergy()
    pooled_encoder.pooling = "mean"
    [pooled] = pooled_encoder.encode([wave])
    assert pooled.features.shape == (1,) and pooled.frame_times is None
    np.testing.assert_allclose(pooled.features, frames.features.mean(0), rtol=1e-6)
