"""UtteranceExplanation: the maps of every preset, cut to the real words and frames, and JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hri_emo.explain import UtteranceExplanation
from hri_emo.inference import EmotionRecognizer
from hri_emo.model import create_model

DIM = 16
WORDS = ["i", "am", "so", "happy"]


def recognizer(preset: str) -> EmotionRecognizer:
    torch.manual_seed(0)
    model = create_model(preset, text_dim=DIM, audio_dim=DIM, hidden_dim=16, num_heads=2)
    return EmotionRecognizer(model)


def features(rows: int) -> np.ndarray:
    return np.random.default_rng(rows).normal(size=(rows, DIM)).astype(np.float32)


FRAMES = np.stack([np.arange(7) * 0.02, np.arange(1, 8) * 0.02], axis=1)


@pytest.mark.parametrize("preset", ["hriemo-v1", "hriemo-v2"])
def test_fusion_maps_have_the_utterance_shape(preset):
    rec = recognizer(preset)
    result = rec.classify_features(features(4), features(7), words=WORDS, frame_times=FRAMES)
    emotions = len(rec.emotions)
    assert result.alignment.shape == (4, 7)
    np.testing.assert_allclose(result.alignment.sum(axis=1), 1.0, atol=1e-5)
    assert result.attribution.shape == (emotions, 4)
    assert result.frame_attribution.shape == (emotions, 7)
    if preset == "hriemo-v1":  # attention maps: each row sums to 1
        np.testing.assert_allclose(result.attribution.sum(axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(result.frame_attribution.sum(axis=1), 1.0, atol=1e-5)
    else:  # v2: exact contributions, words + audio + bias = the logit
        assert result.attribution_method == "contribution"
        parts = [result.logit_sources[e] for e in rec.emotions]
        np.testing.assert_allclose(result.attribution.sum(axis=1), [p["words"] for p in parts])
        np.testing.assert_allclose(
            result.frame_attribution.sum(axis=1), [p["audio"] for p in parts], atol=1e-6
        )
        logits = np.array([sum(p.values()) for p in parts])
        probabilities = [result.probabilities[e] for e in rec.emotions]
        np.testing.assert_allclose(probabilities, 1 / (1 + np.exp(-logits)), atol=1e-5)
    assert result.beta_per_word.shape == (4,) and result.beta_std_per_word.shape == (4,)
    assert np.all((result.beta_per_word >= 0) & (result.beta_per_word <= 1))
    assert result.beta_per_word.mean() == pytest.approx(result.beta_mean, abs=1e-5)
    assert result.beta_per_dim.shape == (16,)
    assert [w for w, _ in result.top_words(rec.emotions[0], k=4)] == [
        WORDS[i] for i in np.argsort(result.attribution[0])[::-1]
    ]
    assert result.notes == []


def test_audio_only_input_attributes_frames_and_says_what_is_missing():
    rec = recognizer("hriemo-v2")
    result = rec.classify_features(audio_features=features(7), frame_times=FRAMES)
    assert result.attribution is None and result.alignment is None
    assert result.frame_attribution.shape == (len(rec.emotions), 7)
    assert any("No transcript" in note for note in result.notes)
    assert result.top_frames(rec.emotions[0], k=1)[0][0] in [tuple(f) for f in FRAMES]


def test_text_only_input_has_no_alignment():
    result = recognizer("hriemo-v2").classify_features(features(4), words=WORDS)
    assert result.alignment is None and result.frame_attribution is None
    assert result.attribution.shape[1] == 4
    assert any("No audio" in note for note in result.notes)


@pytest.mark.parametrize(
    ("preset", "kwargs", "field"),
    [
        ("audio-only", {"audio_features": features(7), "frame_times": FRAMES}, "frame_attribution"),
        ("text-only", {"text_features": features(4), "words": WORDS}, "attribution"),
    ],
)
def test_single_modality_baselines_attribute_their_own_axis(preset, kwargs, field):
    result = recognizer(preset).classify_features(**kwargs)
    assert getattr(result, field) is not None
    assert result.alignment is None


def test_early_fusion_says_it_has_no_maps():
    result = recognizer("early-fusion").classify_features(
        features(4), features(7), words=WORDS, frame_times=FRAMES
    )
    assert result.attribution is None and result.alignment is None
    assert any("no attribution map" in note for note in result.notes)


def test_json_round_trip_keeps_every_map():
    rec = recognizer("hriemo-v2")
    result = rec.classify_features(features(4), features(7), words=WORDS, frame_times=FRAMES)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["top_words"][rec.emotions[0]][0][0] in WORDS
    back = UtteranceExplanation.from_dict(data)
    np.testing.assert_allclose(back.alignment, result.alignment)
    np.testing.assert_allclose(back.frame_attribution, result.frame_attribution)
    assert back.predicted == result.predicted and back.words == WORDS
    compact = result.to_dict(maps=False)
    assert "alignment" not in compact and compact["probabilities"] == result.probabilities


def test_pooled_readout_logit_sources_sum_to_the_logit():
    torch.manual_seed(0)
    model = create_model(
        "hriemo-v2",
        text_dim=DIM,
        audio_dim=DIM,
        hidden_dim=16,
        num_heads=2,
        pooled_readout=True,
        additive_readout=False,  # attention maps: the logit splits into decoder and pooled
    )
    for readout in (model.text_readout, model.audio_readout):
        torch.nn.init.normal_(readout.linear.weight)  # as trained (they start at zero)
    rec = EmotionRecognizer(model)
    result = rec.classify_features(features(4), features(7), words=WORDS, frame_times=FRAMES)
    assert set(result.logit_sources) == set(rec.emotions)
    probabilities = np.array([result.probabilities[e] for e in rec.emotions])
    logits = np.array([sum(result.logit_sources[e].values()) for e in rec.emotions])
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), probabilities, atol=1e-6)
    beta = result.beta_mean
    for sources in result.logit_sources.values():
        assert set(sources) == {"decoder", "pooled_text", "pooled_audio"}
    assert 0 < beta < 1 and any(s["pooled_audio"] != 0 for s in result.logit_sources.values())
    assert json.loads(json.dumps(result.to_dict()))["logit_sources"] == result.logit_sources
    assert recognizer("hriemo-v1").classify_features(features(4)).logit_sources is None
