"""The embedded Whisper tiny.en encoder: conversion from CTranslate2, both routes, real output."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hri_emo.encoders import create_audio_encoder, load_audio
from hri_emo.encoders.whisper_default import converted_whisper_dir, read_ct2_variables
from hri_emo.encoders.whisper_frames import whisper_hidden_states
from hri_emo.errors import AudioError, ConfigError


@pytest.fixture(scope="module")
def whisper(whisper_cache):
    return create_audio_encoder("whisper-tiny-en-hf", cache_root=whisper_cache)


@pytest.fixture(scope="module")
def whisper_ct2():
    return create_audio_encoder("whisper-tiny-en-ct2")


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel(), b.ravel()
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_ct2_file_is_parsed_into_whisper_tiny_shapes():
    from hri_emo.encoders.whisper_default import embedded_whisper_dir

    variables = read_ct2_variables(embedded_whisper_dir() / "model.bin", prefix="encoder/")
    assert variables["encoder/conv1/weight"].shape == (384, 80, 3)
    assert variables["encoder/position_encodings/encodings"].shape == (1500, 384)
    assert int(variables["encoder/num_heads"]) == 6
    assert {n.split("/")[1] for n in variables if n.startswith("encoder/layer_")} >= {
        f"layer_{i}" for i in range(4)
    }
    # the fused q,k,v projection has no key bias, as Whisper's k_proj
    qkv_bias = variables["encoder/layer_0/self_attention/linear_0/bias"]
    assert np.all(qkv_bias[384:768] == 0) and np.any(qkv_bias[:384] != 0)


def test_conversion_is_cached_once(whisper, whisper_cache):
    folder = converted_whisper_dir(root=whisper_cache)
    assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert converted_whisper_dir(root=whisper_cache) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp


def test_converted_encoder_reproduces_ctranslate2_on_a_30s_window(whisper, whisper_ct2, voice):
    padded = whisper_ct2.feature_extractor([voice(3.0)], sampling_rate=16000, return_tensors="pt")
    mels = padded.input_features  # (1, 80, 3000): Whisper's own 30 s window
    ours = whisper_hidden_states(whisper.encoder, mels)[-1][0].detach().numpy()  # (1500, 384)
    ct2 = whisper_ct2.run_encoder(mels)[0][0].numpy()
    assert ours.shape == ct2.shape == (1500, 384)
    assert np.abs(ours - ct2).max() < 1e-3
    assert cosine(ours, ct2) > 0.99999
    with torch.no_grad():  # transformers' own forward (which insists on 30 s) agrees too
        native = whisper.encoder(mels).last_hidden_state[0].numpy()
    np.testing.assert_allclose(ours, native, atol=1e-5)


def test_short_window_keeps_only_frames_of_real_audio(whisper, whisper_ct2, voice):
    [hf] = whisper.encode([voice(3.0)])
    [ct2] = whisper_ct2.encode([voice(3.0)])
    assert hf.features.shape == ct2.features.shape == (150, 384)  # 20 ms per frame
    assert np.abs(hf.features - ct2.features).max() < 1e-3
    np.testing.assert_allclose(hf.frame_times[0], [0.0, 0.02], atol=1e-6)
    np.testing.assert_allclose(hf.frame_times[-1], [2.98, 3.0], atol=1e-6)
    [odd] = whisper.encode([voice(1.234)])
    assert odd.features.shape[0] == 62  # the last frame covers the last 14 ms
    assert odd.frame_times[-1].tolist() == pytest.approx([1.22, 1.234], abs=1e-6)


def test_pad_to_30s_gives_the_same_frames_count(whisper_cache, voice):
    padded = create_audio_encoder("whisper-tiny-en-hf", pad_to_30s=True, cache_root=whisper_cache)
    [encoded] = padded.encode([voice(2.0)])
    assert encoded.features.shape == (100, 384)


def test_layers_pooling_and_metadata(whisper_cache, voice):
    every = create_audio_encoder("whisper-tiny-en", layer="all", cache_root=whisper_cache)
    last = create_audio_encoder("whisper-tiny-en-hf", cache_root=whisper_cache)
    second = create_audio_encoder("whisper-tiny-en", layer=2, cache_root=whisper_cache)
    mean = create_audio_encoder("whisper-tiny-en-hf", pooling="mean", cache_root=whisper_cache)
    wave = voice(1.0)
    stacked = every.encode([wave])[0].features
    assert stacked.shape == (5, 50, 384)  # embeddings + 4 layers
    np.testing.assert_allclose(stacked[-1], last.encode([wave])[0].features, atol=1e-5)
    np.testing.assert_allclose(stacked[2], second.encode([wave])[0].features, atol=1e-5)
    pooled = mean.encode([wave])[0]
    assert pooled.frame_times is None
    np.testing.assert_allclose(pooled.features, stacked[-1].mean(0), atol=1e-5)
    meta = every.metadata
    assert (meta.dim, meta.layer, meta.sample_rate, meta.level) == (1920, "all", 16000, "sequence")
    with pytest.raises(ConfigError, match="last layer only"):
        create_audio_encoder("whisper-tiny-en-ct2", layer=2)


def test_default_route_is_ctranslate2_for_the_last_layer_only(whisper_cache):
    fast = create_audio_encoder("whisper-tiny-en", cache_root=whisper_cache)
    layered = create_audio_encoder("whisper-tiny-en", layer=-2, cache_root=whisper_cache)
    assert fast.revision.endswith("+ct2") and layered.revision.endswith("+transformers")
    assert fast.metadata.encoder == layered.metadata.encoder == "whisper-tiny-en"


def test_batch_of_mixed_lengths_matches_one_by_one(whisper, voice):
    waves = [voice(1.0, seed=1), voice(2.5, seed=2), voice(1.0, pitch=200.0, seed=3)]
    together = whisper.encode(waves)
    for wave, result in zip(waves, together):
        alone = whisper.encode([wave])[0]
        np.testing.assert_allclose(result.features, alone.features, atol=1e-4)


def test_speech_differs_from_silence(whisper, voice):
    mean = lambda w: whisper.encode([w])[0].features.mean(0)  # noqa: E731
    low, high = mean(voice(2.0, pitch=120.0, seed=1)), mean(voice(2.0, pitch=220.0, seed=2))
    silence = mean(np.zeros(32000, dtype=np.float32))
    assert cosine(low, high) > cosine(low, silence) + 0.1


@pytest.mark.shared_data
def test_real_speech_is_closer_to_speech_than_to_silence(whisper, shared_data):
    wavs = sorted((shared_data / "emodb" / "wav").glob("*.wav"))
    if len(wavs) < 2:
        pytest.skip("EmoDB wav files not found")
    first, other = (whisper.encode([load_audio(p)])[0].features.mean(0) for p in wavs[:2])
    silence = whisper.encode([np.zeros(32000, dtype=np.float32)])[0].features.mean(0)
    assert cosine(first, other) > cosine(first, silence) + 0.1


def test_bad_waves_are_named(whisper):
    with pytest.raises(AudioError, match="wave #1: expected a 1-D mono array"):
        whisper.encode([np.zeros(100, np.float32) + 0.1, np.zeros((2, 100), np.float32)])
    with pytest.raises(AudioError, match="wave #0 is empty"):
        whisper.encode([np.zeros(0, np.float32)])


def test_ten_minute_recording_in_30s_windows(whisper, voice):
    """Every frame of a long recording, in order (its speed: benchmarks/bench_encoders.py
    --long 600, docs/benchmarks.md; not asserted here, where other tests share the CPU)."""
    wave = np.tile(voice(10.0), 60)  # 600 s
    [encoded] = whisper.encode([wave])
    assert encoded.features.shape == (30000, 384)
    starts = encoded.frame_times[:, 0]
    assert np.all(np.diff(starts) > 0) and encoded.frame_times[-1, 1] == pytest.approx(600.0)
    np.testing.assert_allclose(np.diff(starts), 0.02, atol=1e-4)
