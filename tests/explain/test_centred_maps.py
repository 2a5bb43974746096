"""Single-label results read every logit-unit value against the other emotions (result.py
`logits_centred`): the maps stay exact, they split log p_e - sum_j p_j log p_j, a shift shared
by all emotions is gone, and the deletion test's default map is the one results give."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hri_emo.explain.faithfulness import ContributionExplainer, ErasureExplainer, ModelInputs
from hri_emo.inference import EmotionRecognizer
from hri_emo.model import create_model
from hri_emo.result import against_the_others, explanation_from_output

DIM = 16
WORDS = ["i", "am", "so", "happy"]
FRAMES = np.stack([np.arange(7) * 0.02, np.arange(1, 8) * 0.02], axis=1)


def model(task: str) -> torch.nn.Module:
    torch.manual_seed(0)
    made = create_model("hriemo-v2", text_dim=DIM, audio_dim=DIM, hidden_dim=16, num_heads=2,
                        task=task)  # fmt: skip
    return made.eval()


def inputs() -> ModelInputs:
    rng = np.random.default_rng(3)
    return ModelInputs(rng.normal(size=(4, DIM)), rng.normal(size=(7, DIM)))


def explained(net: torch.nn.Module, task: str):
    with torch.no_grad():
        out = net(**inputs().tensors())
    decision = np.zeros(len(net.config.emotions)) if task == "multilabel" else np.array(0)
    result = explanation_from_output(
        out, 0, emotions=list(net.config.emotions), task=task, decision=decision,
        words=WORDS, frame_times=FRAMES,
    )  # fmt: skip
    return out, result


def test_against_the_others_removes_a_shift_shared_by_all_emotions():
    p = np.array([0.7, 0.2, 0.1])
    rows = np.array([[1.0, -2.0], [0.5, 0.0], [3.0, 1.0]])
    shifted = rows + np.array([5.0, -4.0])  # every emotion raised alike at each position
    np.testing.assert_allclose(against_the_others(shifted, p), against_the_others(rows, p))
    np.testing.assert_allclose(p @ against_the_others(rows, p), 0.0, atol=1e-12)
    np.testing.assert_allclose(against_the_others(np.ones((3, 2)), p), 0.0, atol=1e-12)


def test_single_label_maps_split_the_centred_logit_exactly():
    net = model("singlelabel")
    out, result = explained(net, "singlelabel")
    assert result.logits_centred and result.attribution_method == "contribution"
    assert result.logit_label("happy") == "logit of happy against the others"
    p = out.probabilities[0].double().numpy()
    raw_words = out.word_contributions[0].double().numpy()
    raw_frames = out.frame_contributions[0].double().numpy()
    np.testing.assert_allclose(result.attribution, raw_words - p @ raw_words, atol=1e-6)
    np.testing.assert_allclose(result.frame_attribution, raw_frames - p @ raw_frames, atol=1e-6)
    for e, emotion in enumerate(result.emotions):
        sources = result.logit_sources[emotion]
        assert sources["words"] == pytest.approx(result.attribution[e].sum(), abs=1e-6)
        assert sources["audio"] == pytest.approx(result.frame_attribution[e].sum(), abs=1e-6)
        total = sum(sources.values())
        assert total == pytest.approx(result.centred_logit(emotion), abs=1e-5)
        logit = out.logits[0].double().numpy()
        assert total == pytest.approx(logit[e] - p @ logit, abs=1e-5)
    totals = np.array([sum(result.logit_sources[e].values()) for e in result.emotions])
    np.testing.assert_allclose(np.exp(totals) / np.exp(totals).sum(), p, atol=1e-6)
    predicted = int(p.argmax())
    assert result.centred_logit(result.emotions[predicted]) > 0  # the likeliest is above the mean


def test_multi_label_maps_stay_absolute_logit_parts():
    net = model("multilabel")
    out, result = explained(net, "multilabel")
    assert not result.logits_centred and result.logit_label("sad") == "logit of sad"
    np.testing.assert_allclose(result.attribution, out.word_contributions[0].double().numpy())
    logits = np.array([sum(result.logit_sources[e].values()) for e in result.emotions])
    np.testing.assert_allclose(logits, out.logits[0].double().numpy(), atol=1e-5)


def test_the_recognizer_and_the_json_carry_the_reading():
    rec = EmotionRecognizer(model("singlelabel"))
    result = rec.classify_features(*[x.astype(np.float32) for x in (inputs().text, inputs().audio)],
                                   words=WORDS, frame_times=FRAMES)  # fmt: skip
    assert result.logits_centred and result.to_dict()["logits_centred"] is True
    assert (
        not EmotionRecognizer(model("multilabel"))
        .classify_features(inputs().text.astype(np.float32))
        .logits_centred
    )


@pytest.mark.parametrize("axis", ["words", "frames"])
def test_the_deletion_tests_default_map_is_the_results_map(axis):
    net = model("singlelabel")
    _, result = explained(net, "singlelabel")
    shown = result.attribution if axis == "words" else result.frame_attribution
    for target in range(len(result.emotions)):
        default = ContributionExplainer(axis).attribute(net, inputs(), target)
        np.testing.assert_allclose(default, shown[target], atol=1e-6)
    plain = ContributionExplainer(axis, centred=False)
    assert plain.name == "contribution_logit"
    assert not np.allclose(plain.attribute(net, inputs(), 0), shown[0], atol=1e-4)
    drops = ErasureExplainer(axis).attribute(net, inputs(), 0)
    assert drops.shape == shown[0].shape


@pytest.fixture(scope="module")
def single_label_embedded(tmp_path_factory):
    """An untrained single-label hriemo-v2 with the embedded encoders' 384-d inputs."""
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("single_label") / "model"
    create_model("hriemo-v2", text_dim=384, audio_dim=384, task="singlelabel").save_pretrained(
        folder
    )
    return folder


def test_word_erasure_is_read_against_the_others(single_label_embedded):
    """With the real MiniLM: each word's erasure value is the fall of its emotion's logit minus
    the fall of the probability-weighted mean logit (p of the whole transcript), read from
    independent classify() calls whose parts sum to their centred logits."""
    recognizer = EmotionRecognizer.from_pretrained(single_label_embedded, asr="none")
    text = "I am so glad you came"
    result = recognizer.classify(None, text, attribution="erasure")
    assert result.attribution_method == "erasure" and result.logits_centred
    p = np.array([result.probabilities[e] for e in result.emotions])

    def centred(transcript: str) -> np.ndarray:
        other = recognizer.classify(None, transcript)
        return np.array([sum(other.logit_sources[e].values()) for e in other.emotions])

    full = centred(text)
    for k in range(len(result.words)):
        variant = centred(" ".join(result.words[:k] + result.words[k + 1 :]))
        np.testing.assert_allclose(result.attribution[:, k], full - (variant - p @ variant),
                                   atol=1e-4)  # fmt: skip
    np.testing.assert_allclose(p @ result.attribution, 0.0, atol=1e-6)
