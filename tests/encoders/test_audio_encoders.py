"""Audio encoders: a tiny offline WavLM for the Hugging Face path, log-mel and eGeMAPS."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from transformers import AutoFeatureExtractor, AutoModel

from hri_emo.encoders import create_audio_encoder
from hri_emo.errors import ConfigError

pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")


def reference_hidden(folder, wave: np.ndarray) -> list[np.ndarray]:
    extractor = AutoFeatureExtractor.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    inputs = extractor(wave, sampling_rate=16000, return_tensors="pt")
    with torch.no_grad():
        states = model(**inputs, output_hidden_states=True).hidden_states
    return [s[0].numpy() for s in states]  # each (T, D)


def test_wavlm_frames_times_and_layers(tiny_wavlm_dir, voice):
    wave = voice(1.0)
    states = reference_hidden(tiny_wavlm_dir, wave)
    last = create_audio_encoder(str(tiny_wavlm_dir))
    [encoded] = last.encode([wave])
    assert encoded.features.shape == (49, 16)  # (16000 - 400) // 320 + 1 frames of 20 ms
    np.testing.assert_allclose(encoded.features, states[-1], atol=1e-5)
    np.testing.assert_allclose(encoded.frame_times[0], [0.0, 0.025], atol=1e-6)
    np.testing.assert_allclose(encoded.frame_times[-1], [0.96, 0.985], atol=1e-6)
    every = create_audio_encoder(str(tiny_wavlm_dir), layer="all").encode([wave])[0]
    assert every.features.shape == (3, 49, 16)
    np.testing.assert_allclose(every.features[1], states[1], atol=1e-5)
    first = create_audio_encoder(str(tiny_wavlm_dir), layer=0).encode([wave])[0]
    np.testing.assert_allclose(first.features, states[0], atol=1e-5)
    meta = last.metadata
    assert (meta.dim, meta.modality, meta.sample_rate, meta.level) == (
        16,
        "audio",
        16000,
        "sequence",
    )


def test_wavlm_mean_pooling(tiny_wavlm_dir, voice):
    wave = voice(0.8)
    pooled = create_audio_encoder(str(tiny_wavlm_dir), pooling="mean").encode([wave])[0]
    frames = create_audio_encoder(str(tiny_wavlm_dir)).encode([wave])[0]
    assert pooled.features.shape == (16,) and pooled.frame_times is None
    np.testing.assert_allclose(pooled.features, frames.features.mean(0), atol=1e-5)


def test_wavlm_long_audio_is_encoded_in_bounded_windows(tiny_wavlm_dir, voice):
    encoder = create_audio_encoder(str(tiny_wavlm_dir), chunk_seconds=1.0)
    wave = voice(2.5)
    [encoded] = encoder.encode([wave])
    assert encoded.features.shape[0] == 49 + 49 + 24  # windows of 1 s, 1 s, 0.5 s
    starts = encoded.frame_times[:, 0]
    assert np.all(np.diff(starts) > 0) and encoded.frame_times[-1, 1] <= 2.5
    first_second = encoder.encode([wave[:16000]])[0]
    np.testing.assert_allclose(encoded.features[:49], first_second.features, atol=1e-5)


def test_hub_style_whisper_checkpoint_uses_its_encoder(tmp_path, voice):
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

    config = WhisperConfig(
        d_model=16, encoder_layers=2, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, num_mel_bins=80,
        vocab_size=64, pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1,
        max_source_positions=1500, max_target_positions=32,
    )  # fmt: skip
    WhisperModel(config).save_pretrained(tmp_path)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(tmp_path)
    encoder = create_audio_encoder(str(tmp_path), layer="all")
    [encoded] = encoder.encode([voice(1.5)])
    assert encoded.features.shape == (3, 75, 16)  # (L+1, 20 ms frames, D)
    assert encoded.frame_times[-1].tolist() == pytest.approx([1.48, 1.5])
    assert encoder.metadata.dim == 48 and encoder.metadata.encoder == str(tmp_path)


def test_unknown_audio_model_fails_offline():
    with pytest.raises(ConfigError, match="no download at run time"):
        create_audio_encoder("no-such-org/no-such-speech-model-hri-emo")


def test_logmel_frames_and_tone_band():
    encoder = create_audio_encoder("logmel")
    t = np.arange(16000) / 16000
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    [encoded] = encoder.encode([tone])
    assert encoded.features.shape == (98, 80)  # 1 + (16000 - 400) // 160
    np.testing.assert_allclose(encoded.frame_times[1], [0.01, 0.035], atol=1e-6)
    low_tone = encoder.encode([(0.5 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)])[0]
    assert encoded.features.mean(0).argmax() > low_tone.features.mean(0).argmax() + 10
    pooled = create_audio_encoder("logmel", pooling="mean").encode([tone])[0]
    np.testing.assert_allclose(pooled.features, encoded.features.mean(0), rtol=1e-5)
    with pytest.raises(ConfigError, match="'logmel' has no layers"):
        create_audio_encoder("logmel", layer=3)


def test_egemaps_functionals_and_descriptors(voice):
    pytest.importorskip("opensmile", reason="optional extra hri-emo[egemaps] not installed")
    functionals = create_audio_encoder("egemaps", pooling="mean")
    descriptors = create_audio_encoder("egemaps", pooling="none")
    low, high = functionals.encode([voice(2.0, pitch=110.0), voice(2.0, pitch=260.0)])
    assert functionals.dim == 88 and low.features.shape == (88,)
    pitch = functionals.metadata.extra["feature_names"].index("F0semitoneFrom27.5Hz_sma3nz_amean")
    assert high.features[pitch] > low.features[pitch] + 10  # semitones
    [frames] = descriptors.encode([voice(2.0)])
    assert frames.features.shape[1] == 25 and frames.frame_times.shape == (len(frames.features), 2)
    assert np.all(np.diff(frames.frame_times[:, 0]) > 0)


def test_egemaps_without_opensmile_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "opensmile", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"pip install 'hri-emo\[egemaps\]'.*research"):
        create_audio_encoder("egemaps")
