"""Conversation context: causal past turns, the model's context positions, end-to-end training.

The tiny dialogue corpus makes each turn's emotion depend only on the previous turn: turn t's
label is the cue hidden in turn t-1's text features (turn 0 is always "calm"). A model without
context cannot do better than ~60 %; with one past turn it can learn the rule.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hri_emo.cli.main import main
from hri_emo.data.collate import collate_batch
from hri_emo.data.dataset import EmotionDataset
from hri_emo.data.readers import read_corpus
from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore
from hri_emo.errors import InputShapeError
from hri_emo.explain.corpus import explain_corpus
from hri_emo.model import create_model

DIM, TURNS, LABELS = 8, 4, ["calm", "excited"]
TINY = ["model.params.hidden_dim=16", "model.params.num_heads=2", "model.params.ff_mult=1"]


def write_dialogues(folder, dialogues=(24, 8, 12), seed=0, changed: str | None = None):
    """Manifest + text store; `changed` = an utterance id whose features are replaced."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    meta = FeatureMetadata(encoder="toy", revision="1", modality="text", level="sequence", dim=DIM)
    rows = ["id,split,text,speaker,dialogue,turn,label"]
    with FeatureStore.create(folder / "text.h5", meta) as store:
        for split, count in zip(("train", "valid", "test"), dialogues):
            for d in range(count):
                cues = rng.integers(0, 2, TURNS)
                for t in range(TURNS):
                    uid = f"{split}-{d}-{t}"
                    text = rng.normal(size=(3, DIM)).astype(np.float32)
                    text[:, 0] += 3.0 * cues[t]
                    if uid == changed:
                        text = text + 5.0
                    store.write(uid, text, tokens=["a", "b", "c"])
                    label = LABELS[cues[t - 1]] if t else "calm"
                    rows.append(f"{uid},{split},a b c,spk{t % 2},{split}-{d},{t},{label}")
    (folder / "dialogues.csv").write_text("\n".join(rows) + "\n")
    return folder / "dialogues.csv", folder / "text.h5"


def dataset(folder, changed=None, k=2):
    manifest, store = write_dialogues(folder, dialogues=(0, 0, 2), changed=changed)
    corpus = read_corpus(manifest)
    source = FeatureStore.open(store)
    return EmotionDataset(corpus.records, LABELS, "singlelabel", source, context_turns=k), source


def test_items_carry_past_turns_newest_first(tmp_path):
    data, source = dataset(tmp_path)
    with source:
        first, third = data[0], data[2]
        assert first.context is None
        assert third.context_ids == ["test-0-1", "test-0-0"]
        assert third.context.shape == (2, DIM)
        assert third.context_same_speaker.tolist() == [False, True]  # spk0 said turn 0
        batch = collate_batch([first, third])
        assert batch.context.shape == (2, 2, DIM)
        assert batch.context_mask.tolist() == [[False, False], [True, True]]


def context_model():
    return create_model("hriemo-v2", text_dim=DIM, emotions=LABELS, task="singlelabel",
                        hidden_dim=16, num_heads=2, context_turns=2).eval()  # fmt: skip


def test_a_future_turn_cannot_change_a_prediction(tmp_path):
    model = context_model()
    with torch.no_grad():  # as if trained: the past turns say something
        model.context_readout.values.normal_()
    logits = []
    for name, changed in (("same", None), ("changed", "test-0-2")):
        data, source = dataset(tmp_path / name, changed=changed)
        with source, torch.no_grad():
            batch = collate_batch([data[i] for i in range(TURNS)])
            out = model(**batch.model_inputs())
        logits.append(out.logits)
        # the utterance's map and the past turns' weights are read apart, each summing to 1
        ones = torch.ones(TURNS, len(LABELS))
        torch.testing.assert_close(out.attribution.sum(-1), ones)
        turns = batch.context_mask.sum(-1).clamp(max=1).float()  # the first turn has none
        torch.testing.assert_close(out.context_attribution.sum(-1), turns[:, None] * ones)
        parts = out.word_contributions.sum(-1) + out.frame_contributions.sum(-1)
        parts = parts + out.context_contributions.sum(-1) + out.bias_contribution
        torch.testing.assert_close(parts, out.logits)  # exact, past turns included
    same, changed = logits
    torch.testing.assert_close(same[:2], changed[:2])  # turns 0, 1: before the change
    assert not torch.allclose(same[2], changed[2])  # turn 2 itself
    assert not torch.allclose(same[3], changed[3])  # turn 3 sees turn 2 as context


def test_an_untrained_context_read_out_leaves_the_utterance_alone(tmp_path):
    """Past turns start with no say: the model answers as it would without them, and its
    attention to the utterance's words is the same (nothing taken away by the past)."""
    model = context_model()
    data, source = dataset(tmp_path)
    with source, torch.no_grad():
        batch = collate_batch([data[i] for i in range(TURNS)])
        inputs = batch.model_inputs()
        out = model(**inputs)
        alone = model(**{k: v for k, v in inputs.items() if not k.startswith("context")})
    torch.testing.assert_close(out.logits, alone.logits)
    torch.testing.assert_close(out.attribution, alone.attribution)
    assert out.context_attribution[2:].min() > 0  # the weights exist, the values are 0


def test_a_context_model_saved_before_the_context_read_out_is_a_clear_error(tmp_path):
    from safetensors.torch import load_file, save_file

    from hri_emo.errors import DataError
    from hri_emo.model import load_model

    folder = context_model().save_pretrained(tmp_path / "old")
    weights = folder / "model.safetensors"
    state = {k: v for k, v in load_file(weights).items() if not k.startswith("context_readout.")}
    save_file(state, weights)  # what a context model of the old design holds
    with pytest.raises(DataError, match="before the context read-out"):
        load_model(folder)


def test_model_without_context_option_refuses_context():
    model = create_model("hriemo-v2", text_dim=DIM, emotions=LABELS, task="singlelabel")
    with pytest.raises(InputShapeError, match="without conversation context"):
        model(text=torch.randn(1, 3, DIM), context=torch.randn(1, 1, DIM))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_dialogues(tmp_path_factory.mktemp("dialogues"))


def overrides(tmp_path, manifest, store, *extra):
    return [
        f"data.corpus={manifest}",
        f"data.text_features={store}",
        "data.batch_size=16",
        *TINY,
        "optim.lr=0.01",
        "optim.warmup_fraction=0.0",
        "trainer.max_epochs=12",
        "trainer.accelerator=cpu",
        "trainer.num_threads=1",
        "trainer.enable_progress_bar=false",
        "train.tensorboard=false",
        f"train.output_dir={tmp_path / 'runs'}",
        *extra,
    ]


def test_context_option_trains_end_to_end(corpus, tmp_path):
    accuracy = {}
    for name, k in (("ctx", 1), ("plain", 0)):
        args = overrides(tmp_path, *corpus, f"data.context_turns={k}", f"train.run_name={name}")
        assert main(["train", *args]) == 0
        run = tmp_path / "runs" / name
        config = json.loads((run / "checkpoints" / "best" / "config.json").read_text())
        assert config["context_turns"] == k
        assert main(["evaluate", str(run), "--split", "test"]) == 0
        report = json.loads((run / "eval" / "best-test" / "metrics.json").read_text())
        accuracy[name] = report["metrics"]["accuracy"]
    # the label is only predictable from the previous turn
    assert accuracy["ctx"] >= 0.9 and accuracy["plain"] <= 0.8, accuracy
    # the explanation covers the context: which previous turn drove each emotion
    first, second = explain_corpus(tmp_path / "runs" / "ctx", "test", limit=2)
    assert first.context_turns is None and first.context_attribution is None
    assert second.context_turns == ["test-0-0"]
    assert second.context_attribution.shape == (len(LABELS), 1)
    # v2's maps are exact logit contributions: words + audio + past turns + bias = the logit
    sources = [second.logit_sources[e] for e in second.emotions]
    np.testing.assert_allclose(second.attribution.sum(axis=1), [s["words"] for s in sources])
    context = second.context_attribution.sum(axis=1)
    np.testing.assert_allclose(context, [s["context"] for s in sources], atol=1e-6)
    logits = np.array([sum(s.values()) for s in sources])
    probabilities = np.array([second.probabilities[e] for e in second.emotions])
    expected = np.exp(logits) / np.exp(logits).sum()  # single-label: softmax
    if second.task == "multilabel":
        expected = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    assert second.context_weights("calm")[0][0] == "test-0-0"
    assert second.to_dict()["context_turns"] == ["test-0-0"]


def test_context_on_a_corpus_without_dialogues_is_a_config_error(corpus, tmp_path, capsys):
    manifest = tmp_path / "plain.csv"
    manifest.write_text("id,split,text,label\nu0,train,hi,calm\nu1,valid,yo,excited\n")
    args = overrides(tmp_path, manifest, corpus[1], "data.context_turns=2")
    assert main(["train", *args]) == 2
    assert "context_turns=2 needs dialogue ids and turn indices" in capsys.readouterr().err


def test_context_with_a_baseline_is_a_config_error(corpus, tmp_path, capsys):
    args = overrides(tmp_path, *corpus, "data.context_turns=1", "model.name=text-only")
    assert main(["train", *args]) == 2
    assert "context is an option of the hriemo models" in capsys.readouterr().err
