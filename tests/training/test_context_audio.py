"""The audio of past turns as context (data.context_audio): dataset, model, training.

The tiny corpus hides each turn's cue in its *audio* only (its text is noise), and a turn's label
is the previous turn's cue: a model that reads the words of past turns cannot learn it, one that
also reads their voice can.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from tests.training.test_context import overrides as text_overrides

from hri_emo.cli.main import main
from hri_emo.data.collate import collate_batch
from hri_emo.data.dataset import EmotionDataset
from hri_emo.data.readers import read_corpus
from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore
from hri_emo.errors import ConfigError, InputShapeError
from hri_emo.model import create_model

TEXT_DIM, AUDIO_DIM, TURNS, LABELS = 8, 6, 4, ["calm", "excited"]


def write_dialogues(folder, dialogues=(24, 8, 12), seed=0, silent=(), unworded=()):
    """Manifest, text store and audio store; the ids in `silent` have no audio features, those
    in `unworded` no text features."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["id,split,text,speaker,dialogue,turn,label"]
    text_meta = FeatureMetadata("toy", "1", "text", "sequence", TEXT_DIM)
    audio_meta = FeatureMetadata("toy", "1", "audio", "pooled", AUDIO_DIM)
    with (
        FeatureStore.create(folder / "text.h5", text_meta) as text_store,
        FeatureStore.create(folder / "audio.h5", audio_meta) as audio_store,
    ):
        for split, count in zip(("train", "valid", "test"), dialogues):
            for d in range(count):
                cues = rng.integers(0, 2, TURNS)
                for t in range(TURNS):
                    uid = f"{split}-{d}-{t}"
                    text = rng.normal(size=(3, TEXT_DIM)).astype(np.float32)
                    if uid not in unworded:
                        text_store.write(uid, text, tokens=["a", "b", "c"])
                    voice = rng.normal(size=AUDIO_DIM).astype(np.float32)
                    voice[0] += 3.0 * cues[t]
                    if uid not in silent:
                        audio_store.write(uid, voice)
                    label = LABELS[cues[t - 1]] if t else "calm"
                    rows.append(f"{uid},{split},a b c,spk{t % 2},{split}-{d},{t},{label}")
    (folder / "dialogues.csv").write_text("\n".join(rows) + "\n")
    return folder / "dialogues.csv", folder / "text.h5", folder / "audio.h5"


def one_dialogue(tmp_path):
    """The records and open stores of one test dialogue whose turn test-0-1 has no audio."""
    manifest, text, audio = write_dialogues(tmp_path, (0, 0, 1), silent={"test-0-1"})
    return read_corpus(manifest).records, FeatureStore.open(text), FeatureStore.open(audio)


def test_a_past_turn_without_text_is_read_from_its_voice(tmp_path):
    manifest, text, audio = write_dialogues(tmp_path, (0, 0, 1), unworded={"test-0-1"})
    records = read_corpus(manifest).records
    with FeatureStore.open(text) as words, FeatureStore.open(audio) as voices:
        third = with_voice(records, words, voices)[2]
        assert third.context_ids == ["test-0-1", "test-0-0"]
        assert third.context_text_present.tolist() == [False, True]
        assert third.context_audio_present.tolist() == [True, True]
        assert not third.context[0].any()
        np.testing.assert_allclose(third.context_audio[0], voices.read("test-0-1").features)
        batch = collate_batch([third])
        assert batch.context_text_mask.tolist() == [[False, True]]
        assert "context_text_mask" in batch.model_inputs()
        plain = EmotionDataset(records, LABELS, "singlelabel", words, voices, context_turns=2)
        assert plain[2].context_ids == ["test-0-0"]  # words only: a turn without text is skipped


def with_voice(records, words, voices):
    return EmotionDataset(records, LABELS, "singlelabel", words, voices, context_turns=2,
                          context_audio=True)  # fmt: skip


def test_items_carry_the_audio_of_past_turns(tmp_path):
    records, words, voices = one_dialogue(tmp_path)
    with words, voices:
        data = with_voice(records, words, voices)
        third = data[2]
        assert third.context_ids == ["test-0-1", "test-0-0"]
        assert third.context_audio.shape == (2, AUDIO_DIM)
        assert third.context_audio_present.tolist() == [False, True]  # test-0-1 has no audio
        np.testing.assert_allclose(third.context_audio[1], voices.read("test-0-0").features)
        assert not third.context_audio[0].any()
        batch = collate_batch([data[0], third])
        assert batch.context_audio.shape == (2, 2, AUDIO_DIM)
        assert batch.context_audio_mask.tolist() == [[False, False], [False, True]]
        assert "context_audio" in batch.model_inputs()
        plain = EmotionDataset(records, LABELS, "singlelabel", words, voices, context_turns=2)
        assert plain[2].context_audio is None  # off unless asked for
        with pytest.raises(ConfigError, match="needs context_turns > 0 and an audio source"):
            EmotionDataset(records, LABELS, "singlelabel", words, None, context_turns=2,
                           context_audio=True)  # fmt: skip


def audio_context_model():
    return create_model("hriemo-v2", text_dim=TEXT_DIM, audio_dim=AUDIO_DIM, emotions=LABELS,
                        task="singlelabel", hidden_dim=16, num_heads=2, context_turns=2,
                        context_audio=True).eval()  # fmt: skip


def model_inputs(tmp_path):
    records, words, voices = one_dialogue(tmp_path)
    with words, voices:
        data = with_voice(records, words, voices)
        return collate_batch([data[i] for i in range(TURNS)]).model_inputs()


def test_the_voice_of_a_past_turn_counts_and_the_parts_stay_exact(tmp_path):
    model = audio_context_model()
    inputs = model_inputs(tmp_path)
    with torch.no_grad():
        untrained = model(**inputs)
        words_only = model(**{k: v for k, v in inputs.items() if k != "context_audio"})
        torch.testing.assert_close(untrained.logits, words_only.logits)  # no say before training
        model.context_readout.values.normal_()  # as if trained
        out = model(**inputs)
        louder = dict(inputs, context_audio=inputs["context_audio"] + 3.0)
        changed = model(**louder)
    parts = out.word_contributions.sum(-1) + out.frame_contributions.sum(-1)
    parts = parts + out.context_contributions.sum(-1) + out.bias_contribution
    torch.testing.assert_close(parts, out.logits)  # exact: words + frames + past turns + bias
    torch.testing.assert_close(changed.logits[0], out.logits[0])  # turn 0 has no past
    # turn 2 reads turns 1 (no audio: masked, whatever its values) and 0 (audio): it changes
    assert not torch.allclose(changed.logits[2], out.logits[2])
    only_silent = dict(inputs, context_audio_mask=torch.zeros_like(inputs["context_audio_mask"]))
    with torch.no_grad():
        a = model(**only_silent)
        b = model(**dict(only_silent, context_audio=inputs["context_audio"] + 3.0))
    torch.testing.assert_close(a.logits, b.logits)  # masked audio is never read
    unworded = dict(inputs, context_text_mask=torch.zeros_like(inputs["context_mask"]))
    with torch.no_grad():
        heard = model(**unworded)
        other_words = model(**dict(unworded, context=inputs["context"] + 3.0))
        other_voice = model(**dict(unworded, context_audio=inputs["context_audio"] + 3.0))
    torch.testing.assert_close(heard.logits, other_words.logits)  # masked text is never read
    assert not torch.allclose(heard.logits[1], other_voice.logits[1])  # the voice still counts
    parts = heard.word_contributions.sum(-1) + heard.frame_contributions.sum(-1)
    parts = parts + heard.context_contributions.sum(-1) + heard.bias_contribution
    torch.testing.assert_close(parts, heard.logits)


def test_a_text_mask_of_another_shape_is_refused(tmp_path):
    inputs = model_inputs(tmp_path)
    with pytest.raises(InputShapeError, match=r"context_text_mask must be \(B, K\)"):
        audio_context_model()(**dict(inputs, context_text_mask=torch.ones(2, 5, dtype=torch.bool)))


def test_a_model_of_past_words_refuses_their_audio():
    model = create_model("hriemo-v2", text_dim=TEXT_DIM, audio_dim=AUDIO_DIM, emotions=LABELS,
                         task="singlelabel", context_turns=2)  # fmt: skip
    with pytest.raises(InputShapeError, match="pass context_audio too"):
        model(text=torch.randn(1, 3, TEXT_DIM), context=torch.randn(1, 1, TEXT_DIM),
              context_text_mask=torch.zeros(1, 1, dtype=torch.bool))  # fmt: skip
    with pytest.raises(InputShapeError, match="context_audio=False"):
        model(text=torch.randn(1, 3, TEXT_DIM), context=torch.randn(1, 1, TEXT_DIM),
              context_audio=torch.randn(1, 1, AUDIO_DIM))  # fmt: skip
    with pytest.raises(ConfigError, match="context_audio"):
        create_model("hriemo-v2", text_dim=TEXT_DIM, audio_dim=AUDIO_DIM, emotions=LABELS,
                     task="singlelabel", context_audio=True)  # fmt: skip


def overrides(tmp_path, manifest, text, audio, *extra):
    """test_context.py's training overrides, with the audio store and one past turn."""
    return text_overrides(tmp_path, manifest, text, f"data.audio_features={audio}",
                          "data.context_turns=1", *extra)  # fmt: skip


def test_the_voice_of_the_previous_turn_is_learned_end_to_end(tmp_path):
    # every turn 1 is heard but not transcribed (no text features): turn 2 can only be answered
    # from the voice of a turn without words
    sizes = (24, 8, 24)
    unworded = {f"{split}-{d}-1" for split, n in zip(("train", "valid", "test"), sizes)
                for d in range(n)}  # fmt: skip
    corpus = write_dialogues(tmp_path / "data", sizes, unworded=unworded)
    accuracy, after_unworded = {}, {}
    for name, audio in (("voice", "true"), ("words", "false")):
        args = overrides(tmp_path, *corpus, f"data.context_audio={audio}", f"train.run_name={name}")
        assert main(["train", *args]) == 0
        run = tmp_path / "runs" / name
        config = json.loads((run / "checkpoints" / "best" / "config.json").read_text())
        assert config["context_audio"] is (audio == "true")
        assert main(["evaluate", str(run), "--split", "test"]) == 0
        report = json.loads((run / "eval" / "best-test" / "metrics.json").read_text())
        accuracy[name] = report["metrics"]["accuracy"]
        with open(run / "eval" / "best-test" / "predictions.csv") as f:
            turn2 = [r for r in csv.DictReader(f) if r["id"].endswith("-2")]
        after_unworded[name] = np.mean([r["target"] == r["predicted"] for r in turn2])
    # the label is the previous turn's audio cue: only the voice of the past can tell it
    assert accuracy["voice"] >= accuracy["words"] + 0.15, accuracy
    assert after_unworded["voice"] >= 0.85 and after_unworded["words"] <= 0.7, after_unworded


def test_the_voice_of_past_turns_without_audio_or_turns_is_a_config_error(tmp_path, capsys):
    manifest, text, audio = write_dialogues(tmp_path / "data", (4, 2, 2))
    no_audio = [a for a in overrides(tmp_path, manifest, text, audio) if "audio_features" not in a]
    assert main(["train", *no_audio, "data.context_audio=true"]) == 2
    assert "data.context_audio=false to read the past turns' words only" in capsys.readouterr().err
    args = overrides(tmp_path, manifest, text, audio, "data.context_turns=0")
    assert main(["train", *args, "data.context_audio=true"]) == 2
    assert "needs context_turns > 0" in capsys.readouterr().err
