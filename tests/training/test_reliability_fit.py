"""The audio-reliability head fitted before training (training/reliability_fit.py), on real
HDF5 stores: a noisy copy whose noise grows as its recorded SNR falls (`tiny_noisy`)."""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import spearmanr

from hri_emo.data.store.feature_store import FeatureStore
from hri_emo.model.reliability import reliability_target
from hri_emo.training.config import load_config
from hri_emo.training.datamodule import EmotionDataModule
from hri_emo.training.reliability_fit import ALPHA_GRID, fit_reliability, reliability_frames
from hri_emo.training.train import build_module


def setup(corpus, tmp_path, *extra):
    cfg = load_config(None, corpus.overrides(tmp_path, "model.name=hriemo-v2", *extra))
    datamodule = EmotionDataModule(cfg.data, seed=0)
    datamodule.setup("fit")
    return build_module(cfg, datamodule).model, datamodule


def test_the_fitted_head_reads_the_noise_of_unseen_speakers(tiny_noisy, tmp_path):
    corpus, noisy, conditions = tiny_noisy
    model, datamodule = setup(corpus, tmp_path, f"data.noisy_audio_features={noisy}")
    head = model.reliability
    x_test, target_test = reliability_frames(head, datamodule, "test")
    assert len(target_test) > 0 and (target_test == 1).any() and (target_test < 0.5).any()

    def test_loss() -> float:
        with torch.no_grad():
            return float(torch.nn.functional.binary_cross_entropy_with_logits(
                head.head(x_test).squeeze(-1), target_test))  # fmt: skip

    before = test_loss()
    fitted = fit_reliability(model, datamodule)
    assert fitted is not None and fitted["alpha"] in ALPHA_GRID
    assert test_loss() < before - 0.1  # the test split's speakers were never seen
    assert not any(p.requires_grad for p in head.parameters())  # frozen, as the probes are
    # per test item: the mean reliability of its noisy copy follows its SNR's target
    with FeatureStore.open(noisy) as store:
        items = [i for i in store.ids() if i.startswith("test")]
        reads, targets = [], []
        for item in items:
            frames = torch.as_tensor(np.asarray(store.read(item).features))[None]
            mask = torch.ones(frames.shape[:2], dtype=torch.bool)
            with torch.no_grad():
                reads.append(float(head(frames, mask).mean()))
            snr = conditions[item]["snr_db"]
            targets.append(float(reliability_target(torch.tensor(
                [float("-inf") if snr is None else snr]))))  # fmt: skip
    assert spearmanr(reads, targets).statistic > 0.6


def test_no_noisy_copy_no_fit(tiny_noisy, tmp_path):
    corpus, _, _ = tiny_noisy
    model, datamodule = setup(corpus, tmp_path)
    start = {k: v.clone() for k, v in model.reliability.state_dict().items()}
    assert fit_reliability(model, datamodule) is None
    for key, value in model.reliability.state_dict().items():
        assert torch.equal(value, start[key])
    assert all(p.requires_grad for p in model.reliability.parameters())


def test_a_model_without_the_head_is_left_alone(tiny_noisy, tmp_path):
    corpus, noisy, _ = tiny_noisy
    model, datamodule = setup(
        corpus, tmp_path, f"data.noisy_audio_features={noisy}", "model.params.audio_reliability=0"
    )
    assert model.reliability is None
    assert fit_reliability(model, datamodule) is None


def test_a_second_model_on_the_same_data_reuses_the_fit(tiny_noisy, tmp_path):
    """`select` builds its two candidates from the same seed: the second reads the first's fit."""
    corpus, noisy, _ = tiny_noisy
    overrides = f"data.noisy_audio_features={noisy}"
    torch.manual_seed(0)
    first, datamodule = setup(corpus, tmp_path, overrides)
    fitted = fit_reliability(first, datamodule)
    torch.manual_seed(0)
    second, _ = setup(corpus, tmp_path, overrides)
    assert fit_reliability(second, datamodule) == fitted
    for key, value in second.reliability.state_dict().items():
        assert torch.equal(value, first.reliability.state_dict()[key])
    assert not any(p.requires_grad for p in second.reliability.parameters())
    torch.manual_seed(1)  # other starting weights: fitted again, not read from the cache
    other, _ = setup(corpus, tmp_path, overrides)
    fit_reliability(other, datamodule)
    assert not torch.equal(other.reliability.head[0].weight, first.reliability.head[0].weight)
