"""`hri-emo ensemble`: two seeds of a tiny run (real Lightning training, real stores) combined
into one run folder that evaluate, the recognizer and the refusals treat like any other."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hri_emo.cli.main import main


@pytest.fixture(scope="module")
def seeds(tiny_singlelabel, tmp_path_factory):
    """Run folders of seeds 0 and 1, and one trained on other data settings."""
    tmp_path = tmp_path_factory.mktemp("ensemble")
    runs = {}
    for name, extra in {
        "seed0": ("train.seed=0",),
        "seed1": ("train.seed=1",),
        "other": ("train.seed=2", "data.max_text_len=3"),
    }.items():
        overrides = tiny_singlelabel.overrides(tmp_path, f"train.run_name={name}", *extra)
        assert main(["train", *overrides]) == 0
        runs[name] = tmp_path / "runs" / name
    return runs


def test_two_seeds_become_one_model_that_evaluate_and_the_recognizer_read(seeds, tmp_path):
    from hri_emo.inference import EmotionRecognizer
    from hri_emo.model.ensemble import EnsembleModel

    out = tmp_path / "ens"
    assert main(["ensemble", str(seeds["seed0"]), str(seeds["seed1"]), "--output", str(out)]) == 0
    best = out / "checkpoints" / "best"
    assert (best / "ensemble.json").is_file() and (best / "thresholds.json").is_file()
    metrics = json.loads((best / "metrics.json").read_text())
    assert metrics["seeds"] == [0, 1] and "accuracy" in metrics["val_with_thresholds"]
    assert main(["evaluate", str(out), "--split", "test"]) == 0
    report = json.loads((out / "eval" / "best-test" / "metrics.json").read_text())
    assert 0.0 <= report["metrics"]["accuracy"] <= 1.0
    ensemble = EmotionRecognizer.from_pretrained(out)
    members = [EmotionRecognizer.from_pretrained(seeds[s]) for s in ("seed0", "seed1")]
    assert isinstance(ensemble.model, EnsembleModel)
    rng = np.random.default_rng(0)
    text, audio = rng.normal(size=(4, 8)), rng.normal(size=(6, 6))
    result = ensemble.classify_features(text, audio)
    alone = [m.classify_features(text, audio) for m in members]
    logit = np.log([result.probabilities[e] for e in result.emotions])
    mean = np.mean([np.log([a.probabilities[e] for e in a.emotions]) for a in alone], axis=0)
    # softmax of the mean logit = the normalised geometric mean of the members' probabilities
    assert np.allclose(logit - logit.mean(), mean - mean.mean(), atol=1e-5)


def test_runs_that_cannot_be_averaged_are_refused_with_the_reason(seeds, tmp_path, capsys):
    one = ["ensemble", str(seeds["seed0"]), "--output", str(tmp_path / "a")]
    assert main(one) == 2 and "at least 2 runs" in capsys.readouterr().err
    mixed = ["ensemble", str(seeds["seed0"]), str(seeds["other"]), "--output", str(tmp_path / "b")]
    assert main(mixed) == 2
    assert "different data settings" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
