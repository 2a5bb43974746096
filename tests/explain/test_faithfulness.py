"""Sanity checks of the attributions on the key-word run (conftest): one word decides, so a
faithful attribution ranks it first, and deleting it must cost more than deleting random words;
re-initialising the weights must change the maps (Adebayo et al., 2018)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from hri_emo.explain.faithfulness import (
    AttentionExplainer,
    ContributionExplainer,
    ErasureExplainer,
    IntegratedGradientsExplainer,
    ModelInputs,
    RandomExplainer,
    deletion_curve,
    evaluate_faithfulness,
)
from hri_emo.training.checkpoint import load_checkpoint
from hri_emo.training.config import load_config
from hri_emo.training.datamodule import EmotionDataModule


@pytest.fixture(scope="module")
def trained(key_word_run):
    """(model, emotions, test items) of the key-word run."""
    ckpt = load_checkpoint(key_word_run.run_dir)
    cfg = load_config(ckpt.directory / "experiment.yaml")
    datamodule = EmotionDataModule(cfg.data, standardizers=ckpt.standardizers)
    dataset = datamodule.dataset("test")
    items = [dataset[i] for i in range(len(dataset))]
    datamodule.close()
    return ckpt.model.eval(), ckpt.emotions, items


def positives(items):
    """Test items whose deciding word is "great" (without it the model says negative)."""
    return [item for item in items if "great" in item.tokens]


@pytest.mark.parametrize(
    "explainer", [ContributionExplainer, IntegratedGradientsExplainer, ErasureExplainer]
)
def test_the_deciding_word_is_ranked_first_and_deleting_it_flips_the_decision(trained, explainer):
    model, emotions, items = trained
    target = emotions.index("positive")
    found, falls, other_falls = [], [], []
    rng = np.random.default_rng(0)
    for item in positives(items):
        utterance = ModelInputs(item.text, item.audio)
        scores = explainer("words").attribute(model, utterance, target)
        top = int(np.argmax(scores))
        found.append(item.tokens[top] == "great")
        falls.append(deletion_curve(model, utterance, target, scores, "words", [0.01])[0])
        other = rng.choice([i for i in range(len(scores)) if i != top])  # one other word
        one_hot = np.eye(len(scores))[other]
        other_falls.append(deletion_curve(model, utterance, target, one_hot, "words", [0.01])[0])
    assert np.mean(found) >= 0.9, found
    # Deleting the top word costs the positive decision much more than deleting another word.
    # (What the model says with no key word at all is outside its training data: an additive
    # read-out falls back to its biases, so the fall is not required to cross 0.5.)
    assert np.mean(falls) > 0.25, falls
    assert np.mean(falls) > 5 * max(np.mean(other_falls), 0.01), (falls, other_falls)


def test_attributions_beat_random_deletion(trained):
    model, emotions, items = trained
    utterances = [ModelInputs(item.text, item.audio) for item in items]
    explainers = [
        ContributionExplainer("words"),
        AttentionExplainer("words"),
        IntegratedGradientsExplainer("words", steps=16),
        ErasureExplainer("words"),
        ContributionExplainer("words", centred=False),
    ]
    result = evaluate_faithfulness(model, utterances, "words", emotions, explainers)
    assert result["utterances"] == len(items)
    names = ("contribution", "attention", "integrated_gradients", "erasure", "contribution_logit")
    for name in names:
        assert result[name]["aopc"]["mean"] > result["random"]["aopc"]["mean"] + 0.1, result
    assert set(result["attention"]["per_emotion"]) <= set(emotions)


def test_the_checks_fail_on_random_maps(trained):
    """The two checks above reject a random ranking (they can fail)."""
    model, emotions, items = trained
    target = emotions.index("positive")
    explainer = RandomExplainer(seed=1)
    found = []
    for item in positives(items):
        scores = explainer.attribute(model, ModelInputs(item.text, item.audio), target)
        found.append(item.tokens[int(np.argmax(scores[: len(item.tokens)]))] == "great")
    assert np.mean(found) < 0.9, found
    explainer.name = "random_map"
    utterances = [ModelInputs(item.text, item.audio) for item in items]
    result = evaluate_faithfulness(model, utterances, "words", emotions, [explainer])
    assert result["random_map"]["aopc"]["mean"] <= result["random"]["aopc"]["mean"] + 0.1


@pytest.mark.parametrize(
    "explainer_class", [ContributionExplainer, AttentionExplainer, ErasureExplainer]
)
def test_model_randomisation_changes_the_maps(trained, explainer_class):
    model, emotions, items = trained
    torch.manual_seed(123)
    randomised = type(model)(model.config).eval()  # same architecture, fresh weights
    target = emotions.index("positive")
    explainer = explainer_class("words")
    same, changed = [], []
    for item in items:
        utterance = ModelInputs(item.text, item.audio)
        trained_map = explainer.attribute(model, utterance, target)
        same.append(spearmanr(trained_map, explainer.attribute(model, utterance, target))[0])
        changed.append(
            spearmanr(trained_map, explainer.attribute(randomised, utterance, target))[0]
        )
    assert np.nanmean(same) == pytest.approx(1.0)
    assert np.nanmean(changed) < 0.5, changed
