"""The probe first: pooled read-outs fitted as scikit-learn's logistic regression would fit them,
the model starting as those probes, and the fit kept (frozen) through real training."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from hri_emo.errors import ConfigError
from hri_emo.training.checkpoint import load_checkpoint
from hri_emo.training.config import load_config
from hri_emo.training.cross_fit import NOISY_COPY, FoldKey, training_fold_keys
from hri_emo.training.datamodule import EmotionDataModule
from hri_emo.training.readout_fit import (
    fit_logistic,
    fit_pooled_readouts,
    fitted_modalities,
    pooled_training_features,
    probe_batches,
)
from hri_emo.training.recipe_select import (
    NONE_MARGIN,
    candidate_config,
    candidate_recipes,
    choose,
    smoothed_best,
    validation_history,
)
from hri_emo.training.train import build_module, train


def _data(task: str, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(90, 12)) * rng.uniform(0.1, 5.0, size=12) + rng.normal(size=12)
    if task == "multilabel":
        y = (x[:, :3] + rng.normal(size=(90, 3)) > 0).astype(np.float32)
    else:
        y = np.argmax(x[:, :3] + rng.normal(size=(90, 3)), axis=1)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y)


@pytest.mark.parametrize("c", [0.1, 1.0])
def test_single_label_fit_is_scikit_learns_logistic_regression(c):
    x, y = _data("singlelabel")
    weight, bias = fit_logistic(x, y, "singlelabel", num_emotions=3, c=c)
    ours = torch.softmax(x.double() @ weight.T + bias, dim=-1).numpy()
    scaler = StandardScaler().fit(x.numpy())
    probe = LogisticRegression(C=c, max_iter=5000, tol=1e-8).fit(scaler.transform(x.numpy()), y)
    theirs = probe.predict_proba(scaler.transform(x.numpy()))
    # ddof differs (torch std is unbiased, the scaler's is not): a tiny difference in the penalty
    assert np.abs(ours - theirs).max() < 0.02
    assert (ours.argmax(1) == theirs.argmax(1)).mean() > 0.97


def test_multilabel_fit_is_one_logistic_regression_per_emotion():
    x, y = _data("multilabel")
    weight, bias = fit_logistic(x, y, "multilabel", num_emotions=3, c=1.0)
    ours = torch.sigmoid(x.double() @ weight.T + bias).numpy()
    z = StandardScaler().fit_transform(x.numpy())
    for e in range(3):
        probe = LogisticRegression(C=1.0, max_iter=5000, tol=1e-8).fit(z, y[:, e].numpy())
        assert np.abs(ours[:, e] - probe.predict_proba(z)[:, 1]).max() < 0.02


def _module(corpus, tmp_path, *extra):
    cfg = load_config(None, corpus.overrides(tmp_path, "model.name=hriemo-v2", *extra))
    datamodule = EmotionDataModule(cfg.data)
    datamodule.setup("fit")
    return cfg, datamodule, build_module(cfg, datamodule)


def test_the_model_starts_as_the_beta_gated_probes(tiny_singlelabel, tmp_path):
    _, datamodule, module = _module(tiny_singlelabel, tmp_path)
    model = module.model
    fit_pooled_readouts(model, datamodule.loader("train"), ("text", "audio"))
    assert not any(p.requires_grad for p in model.text_readout.parameters())
    assert not any(p.requires_grad for p in model.audio_readout.parameters())
    model.eval()
    batch = next(iter(datamodule.loader("val")))
    with torch.no_grad():
        out = model(**batch.model_inputs())
    # the attention path's classifier is zero: the logits are the pooled shares alone
    torch.testing.assert_close(out.logits, out.pooled_share.sum(-1))
    probes = out.pooled_share.sum(-1).argmax(-1)
    assert (probes == batch.labels).float().mean() >= 0.8  # the tiny corpus is separable


def test_out_of_fold_logits_come_from_probes_that_did_not_see_the_speaker(
    tiny_singlelabel, tmp_path
):
    _, datamodule, module = _module(tiny_singlelabel, tmp_path)
    train_records = datamodule.records["train"]
    keys = training_fold_keys(datamodule)
    assert {keys[r.id] for r in train_records} == {FoldKey(r.speaker) for r in train_records}
    stacked = fit_pooled_readouts(module.model, datamodule.loader("train"), groups=keys)
    assert set(stacked) == {r.id for r in train_records}
    table = torch.stack([stacked[r.id] for r in train_records])  # (N, E, 2)
    assert not table.isnan().any()
    # in-sample logits of the full probe are more confident than what held-out probes say
    batch = next(iter(datamodule.loader("train")))
    with torch.no_grad():
        own = module.model.audio_readout(batch.audio, batch.audio_mask)  # (B, E)
    held = torch.stack([stacked[i][:, 1] for i in batch.ids])
    assert not torch.allclose(own, held.to(own))
    own_margin = (own[:, 1] - own[:, 0]).abs().mean()
    held_margin = (held[:, 1] - held[:, 0]).abs().mean()
    assert own_margin > held_margin


def test_stacked_training_keeps_the_fitted_probes(tiny_singlelabel, tmp_path):
    cfg, datamodule, module = _module(tiny_singlelabel, tmp_path, "train.readout_fit=stack")
    fit_pooled_readouts(module.model, datamodule.loader("train"), ("text", "audio"))
    expected = module.model.audio_readout.linear.weight.detach().clone()
    run = train(cfg)
    weights = load_file(run / "checkpoints" / "best" / "model.safetensors")
    torch.testing.assert_close(weights["audio_readout.linear.weight"], expected)
    assert weights["backbone.heads.classifier.weight"].abs().sum() > 0  # the residual learned


def test_without_the_fit_the_readouts_train(tiny_singlelabel, tmp_path):
    cfg, _, _ = _module(tiny_singlelabel, tmp_path, "train.readout_fit=none")
    run = train(cfg)
    weights = load_file(run / "checkpoints" / "best" / "model.safetensors")
    assert weights["audio_readout.linear.weight"].abs().sum() > 0  # trained from zero


def test_the_probes_replace_a_model_that_validates_worse(tiny_singlelabel, tmp_path):
    # one epoch at a tiny learning rate: the trained model is near chance, the probes are not
    cfg, _, _ = _module(
        tiny_singlelabel, tmp_path, "train.readout_fit=fallback", "optim.lr=1e-7",
        "trainer.max_epochs=1",
    )  # fmt: skip
    best = train(cfg) / "checkpoints" / "best"
    record = json.loads((best / "metrics.json").read_text())["probe_fallback"]
    assert record["monitor"] == cfg.train.monitor == "val/loss"
    assert record["probes"] < record["trained"] and record["chosen"] == "probes"
    weights = load_file(best / "model.safetensors")
    assert weights["backbone.heads.classifier.weight"].abs().sum() == 0
    assert weights["audio_readout.linear.weight"].abs().sum() > 0


def test_a_model_that_validates_better_than_the_probes_is_kept(tiny_singlelabel, tmp_path):
    cfg, _, _ = _module(
        tiny_singlelabel, tmp_path, "train.readout_fit=fallback", "trainer.max_epochs=8"
    )
    best = train(cfg) / "checkpoints" / "best"
    record = json.loads((best / "metrics.json").read_text())["probe_fallback"]
    kept = record["chosen"] == "trained"
    assert kept == (record["trained"] <= record["probes"])
    weights = load_file(best / "model.safetensors")
    assert (weights["backbone.heads.classifier.weight"].abs().sum() > 0) == kept


def test_c_must_be_positive(tiny_singlelabel, tmp_path):
    with pytest.raises(ConfigError, match=r"train\.readout_fit_c"):
        load_config(None, tiny_singlelabel.overrides(tmp_path, "train.readout_fit_c=0"))


def test_select_trains_every_recipe_and_keeps_the_one_validation_prefers(
    tiny_singlelabel, tmp_path
):
    cfg, _, _ = _module(tiny_singlelabel, tmp_path, "train.readout_fit=select")
    run = train(cfg, tmp_path / "run")
    record = json.loads((run / "selection.json").read_text())
    recipes = {"stack", "experts", "none"}
    assert set(record["scores"]) == recipes
    chosen = choose(record["scores"], "min", "none")  # val/loss: lower is better
    assert record["smoothing_epochs"] == 3 and set(record["best_epoch_scores"]) == recipes
    experts = run / "candidates" / "experts" / "checkpoints" / "best" / "config.json"
    assert json.loads(experts.read_text())["decoder_logits"] is False  # the gated probes alone
    stack = run / "candidates" / "stack" / "checkpoints" / "best" / "config.json"
    assert json.loads(stack.read_text())["decoder_logits"] is True
    for recipe, score in record["scores"].items():  # a mean of epochs, read from the real logs
        history = validation_history(run / "candidates" / recipe, "val/loss")
        assert len(history) == cfg.trainer.max_epochs
        assert score == pytest.approx(sum(history) / len(history))  # 3 epochs: their mean
        assert score >= record["best_epoch_scores"][recipe] - 1e-6
    assert record["chosen"] == chosen
    best = run / "checkpoints" / "best"
    source = run / "candidates" / chosen / "checkpoints" / "best"
    metrics = json.loads((best / "metrics.json").read_text())
    assert metrics["recipe_selection"] == record
    # then the chosen model's probes alone, kept only where they validate better
    fallback = metrics["probe_fallback"]
    kept = fallback["chosen"] == "trained"
    assert kept == (fallback["trained"] <= fallback["probes"])  # val/loss: lower is better
    same = (best / "model.safetensors").read_bytes() == (source / "model.safetensors").read_bytes()
    assert same == kept
    # the guard took the stack candidate's probes instead of fitting them again: the same weights
    stacked = load_checkpoint(run / "candidates" / "stack" / "checkpoints" / "best").model
    refit = copy.deepcopy(stacked)
    datamodule = EmotionDataModule(cfg.data, seed=cfg.train.seed)
    datamodule.setup("fit")
    fit_pooled_readouts(refit, probe_batches(datamodule), fitted_modalities(datamodule),
                        cfg.train.readout_fit_c, groups=training_fold_keys(datamodule))  # fmt: skip
    for name in ("text", "audio"):
        torch.testing.assert_close(
            getattr(refit, f"{name}_readout").linear.state_dict(),
            getattr(stacked, f"{name}_readout").linear.state_dict(),
        )
    # a second call on the finished candidates reuses them (nothing retrained)
    stamp = (source / "model.safetensors").stat().st_mtime_ns
    train(cfg, run, resume=True)
    assert (source / "model.safetensors").stat().st_mtime_ns == stamp


def test_the_model_from_scratch_is_chosen_only_by_a_clear_margin():
    scores = {"stack": 0.80, "experts": 0.85, "none": 0.86}
    assert choose(scores, "max", "none") == "experts"  # within NONE_MARGIN: the read-outs
    assert choose({**scores, "none": 0.85 + NONE_MARGIN + 0.01}, "max", "none") == "none"
    assert choose({"stack": 0.55, "experts": 0.60, "none": 0.54}, "min", "none") == "stack"
    assert choose({"stack": 0.55, "experts": 0.60, "none": 0.52}, "min", "none") == "none"
    assert choose({"stack": 0.80, "none": 0.81}, "max", "none") == "none"  # no experts: plain
    assert choose({"stack": None, "experts": None, "none": None}, "max", "none") == "none"


def test_the_experts_are_left_out_where_they_cannot_be_built(tiny_singlelabel, tmp_path):
    plain = load_config(None, tiny_singlelabel.overrides(tmp_path))
    assert candidate_recipes(plain) == ("stack", "experts", "none")
    experts = candidate_config(plain, "experts")
    assert experts.train.readout_fit == "none"
    assert (
        experts.model.params["decoder_logits"] is False
        and "decoder_logits" not in plain.model.params
    )
    two = load_config(
        None, tiny_singlelabel.overrides(tmp_path, "train.select_candidates=[stack,experts]")
    )
    assert candidate_recipes(two) == ("stack", "experts")
    with pytest.raises(ConfigError, match=r"train\.select_candidates"):
        load_config(None, tiny_singlelabel.overrides(tmp_path, "train.select_candidates=[probe]"))
    with pytest.raises(ConfigError, match=r"train\.select_candidates"):
        load_config(None, tiny_singlelabel.overrides(tmp_path, "train.select_candidates=[]"))
    context = load_config(None, tiny_singlelabel.overrides(tmp_path, "data.context_turns=2"))
    assert candidate_recipes(context) == ("stack", "experts", "none")  # past turns read apart
    off = load_config(
        None, tiny_singlelabel.overrides(tmp_path, "model.params.decoder_logits=false")
    )
    assert candidate_recipes(off) == ("stack", "none")


def test_recipes_are_compared_on_smoothed_validation_not_one_lucky_epoch(tmp_path):
    """A curve that swings up once loses to a steady one that is better on average."""
    swinging = [0.60, 0.90, 0.55, 0.62, 0.58]  # best epoch 0.90, best 3-epoch mean 0.683
    steady = [0.70, 0.78, 0.80, 0.79, 0.77]  # best epoch 0.80, best 3-epoch mean 0.79
    assert max(swinging) > max(steady)
    assert smoothed_best(steady, "max") > smoothed_best(swinging, "max")
    assert smoothed_best([0.5, 0.4], "min") == pytest.approx(0.45)  # fewer epochs: their mean
    assert smoothed_best([], "max") is None
    # the history is read from the candidate's CSV logs; a resumed run's later version wins
    for version, rows in ((0, "0,0.6\n1,0.9\n"), (1, "1,0.7\n2,0.8\n")):
        folder = tmp_path / "logs" / "csv" / f"version_{version}"
        folder.mkdir(parents=True)
        (folder / "metrics.csv").write_text(f"epoch,val/ua\n,\n{rows}")
    assert validation_history(tmp_path, "val/ua") == [0.6, 0.7, 0.8]


def test_probes_are_fitted_on_the_recordings_and_their_noisy_copies_never_on_noise_alone(
    tiny_noisy, tmp_path
):
    """With a noisy copy, half the training items read noisy audio; the probes (stack, fallback)
    are fitted on every item as recorded plus the audio of every noisy copy that is not noise
    alone, each copy in its speaker's fold; a noisy item's stacked audio logits are NaN, so the
    read-out scores the noisy frames the item has."""
    corpus, noisy, conditions = tiny_noisy
    overrides = (f"data.noisy_audio_features={noisy}", "train.readout_fit=stack")
    cfg, datamodule, module = _module(corpus, tmp_path, *overrides, "trainer.max_epochs=1")
    mixed = torch.cat([b.audio_snr for b in datamodule.loader("train")])
    recorded = torch.cat([b.audio_snr for b in datamodule.loader("train", audio_read="recorded")])
    assert mixed.isfinite().any() and (mixed == float("inf")).any()  # a share read noisy
    assert (recorded == float("inf")).all()  # none, as recorded
    train_ids = [r.id for r in datamodule.records["train"]]
    features = pooled_training_features(module.model, probe_batches(datamodule))
    assert features["text"].ids == train_ids  # the words once per item
    copies = [i for i in train_ids if conditions[i]["snr_db"] is not None]
    assert 0 < len(copies) < len(train_ids)  # some copies are noise alone: left out
    assert features["audio"].ids == train_ids + [i + NOISY_COPY for i in copies]
    groups = training_fold_keys(datamodule)
    assert all(groups[i + NOISY_COPY] == groups[i] for i in train_ids)
    stacked = fit_pooled_readouts(
        module.model, probe_batches(datamodule), ("text", "audio"), 1.0, groups=groups
    )
    assert sorted(stacked) == sorted(train_ids)  # out-of-fold logits of the recordings only
    # real training fits (and freezes) the probes on exactly that data
    run = train(cfg, tmp_path / "run")
    trained = load_file(str(run / "checkpoints" / "best" / "model.safetensors"))
    _, same_data, same_module = _module(corpus, tmp_path, *overrides)
    fit_pooled_readouts(
        same_module.model, probe_batches(same_data), ("text", "audio"), cfg.train.readout_fit_c,
        groups=training_fold_keys(same_data),
    )  # fmt: skip
    expected = same_module.model.audio_readout.linear.weight
    assert torch.allclose(trained["audio_readout.linear.weight"], expected, atol=1e-5)
    module.stacked_logits = {
        r.id: torch.zeros(len(module.emotions), 2) for r in datamodule.records["train"]
    }
    batch = next(b for b in datamodule.loader("train") if b.audio_snr.isfinite().any())
    stacked = module._stacked(batch)
    read_noisy = batch.audio_snr != float("inf")
    assert stacked[read_noisy, :, 1].isnan().all() and not stacked[~read_noisy].isnan().any()
    assert not stacked[..., 0].isnan().any()  # the text probe's logits stay
