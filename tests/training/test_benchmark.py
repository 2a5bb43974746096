"""`hri-emo benchmark`: models x seeds on the same data, mean ± std over seeds."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hri_emo.cli.main import main


def test_benchmark_two_models_two_seeds(tiny_singlelabel, tmp_path, capsys):
    overrides = tiny_singlelabel.overrides(tmp_path, "trainer.max_epochs=2")
    output = tmp_path / "bench"
    args = ["benchmark", "--models", "hriemo-v2,text-only", "--seeds", "2", "--output", str(output)]
    assert main([*args, *overrides]) == 0
    summary = json.loads((output / "benchmark.json").read_text())
    assert list(summary["models"]) == ["hriemo-v2", "text-only"]
    for model in ("hriemo-v2", "text-only"):
        runs = summary["runs"][model]
        assert [r["seed"] for r in runs] == [0, 1]
        accuracies = [r["metrics"]["accuracy"] for r in runs]
        stats = summary["models"][model]["accuracy"]
        assert stats["mean"] == pytest.approx(np.mean(accuracies))
        assert stats["std"] == pytest.approx(np.std(accuracies, ddof=1))
        val_accuracies = [r["validation"]["accuracy"] for r in runs]
        val_stats = summary["validation"][model]["accuracy"]
        assert val_stats["mean"] == pytest.approx(np.mean(val_accuracies))
        for run in runs:
            assert (tmp_path / run["run_dir"] / "checkpoints" / "best").is_dir()
    seeds_differ = summary["runs"]["hriemo-v2"][0]["metrics"]["loss"]
    assert seeds_differ != summary["runs"]["hriemo-v2"][1]["metrics"]["loss"]
    table = (output / "benchmark.md").read_text()
    assert "| hriemo-v2 |" in table and "±" in table and "hri-emo benchmark" in table
    assert table in capsys.readouterr().out


def test_the_ensemble_row_reuses_the_seeds_runs(tiny_singlelabel, tmp_path):
    """benchmark.ensemble=true adds each model's seeds as one model, without retraining."""
    overrides = tiny_singlelabel.overrides(tmp_path, "trainer.max_epochs=2")
    output = tmp_path / "bench"
    args = ["benchmark", "--models", "hriemo-v2", "--seeds", "2", "--output", str(output)]
    assert main([*args, *overrides]) == 0
    run_file = output / "runs" / "hriemo-v2" / "seed0" / "run.json"
    first = json.loads(run_file.read_text())
    assert main([*args, *overrides, "benchmark.ensemble=true"]) == 0
    assert json.loads(run_file.read_text()) == first  # the seeds were not trained again
    summary = json.loads((output / "benchmark.json").read_text())
    ensemble = summary["ensembles"]["hriemo-v2"]
    assert ensemble["seeds"] == [0, 1] and 0 <= ensemble["metrics"]["accuracy"] <= 1
    assert (output / "ensembles" / "hriemo-v2" / "checkpoints" / "best" / "ensemble.json").is_file()
    assert "| hriemo-v2 (ensemble of 2 seeds) |" in (output / "benchmark.md").read_text()


def test_benchmark_reuses_finished_runs_and_retrains_changed_ones(tiny_singlelabel, tmp_path):
    overrides = tiny_singlelabel.overrides(tmp_path, "trainer.max_epochs=1")
    output = tmp_path / "bench"
    args = ["benchmark", "--models", "text-only", "--seeds", "1", "--output", str(output)]
    interleaved = ["benchmark", overrides[0], "--models", "text-only", "--seeds", "1",
                   overrides[1], "--output", str(output), *overrides[2:]]  # fmt: skip
    assert main(interleaved) == 0  # overrides before, between and after options
    run_file = output / "runs" / "text-only" / "seed0" / "run.json"
    first = json.loads(run_file.read_text())

    assert main([*args, *overrides]) == 0  # interrupted-benchmark restart: nothing retrained
    assert json.loads(run_file.read_text()) == first
    more_seeds = ["benchmark", "--models", "text-only", "--seeds", "2", "--output", str(output)]
    assert main([*more_seeds, *overrides]) == 0  # adding a seed trains only the new seed
    assert json.loads(run_file.read_text()) == first
    assert (output / "runs" / "text-only" / "seed1" / "run.json").is_file()
    assert main([*args, *overrides, "benchmark.split=val"]) == 0  # another split: evaluated again
    assert json.loads(run_file.read_text())["config"]["benchmark"]["split"] == "val"

    assert main([*args, *overrides, "optim.lr=0.0123"]) == 0  # a changed config is retrained
    retrained = json.loads(run_file.read_text())
    assert retrained["config"]["optim"]["lr"] == 0.0123
    assert retrained["seconds"] != first["seconds"]


def test_unknown_options_are_still_an_error(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["benchmark", "--output", str(tmp_path), "--bogus", "trainer.max_epochs=1"])
    assert exit_info.value.code == 2
