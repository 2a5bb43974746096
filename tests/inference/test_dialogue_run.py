"""A trained run end to end: `hri-emo extract` (MiniLM) + `hri-emo train` with context, then the
recognizer's Dialogue gives each test turn exactly what evaluation gives it (same past turns,
standardised and truncated as in training, pooled by the one `pool_turn`)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from hri_emo.cli.main import main
from hri_emo.explain.corpus import explain_corpus
from hri_emo.inference import EmotionRecognizer

REPLIES = ["okay", "I see", "right then"]


def write_manifest(folder, cues: dict[str, list[str]]):
    rows = [["id", "split", "text", "speaker", "dialogue", "turn", "label"]]
    flat = [(text, label) for label, texts in cues.items() for text in texts]
    for split, count in (("train", len(flat)), ("valid", 4), ("test", 2)):
        for d in range(count):
            cue, label = flat[(d * 3) % len(flat)]
            turns = [cue, REPLIES[d % 3], REPLIES[(d + 1) % 3]]
            for t, text in enumerate(turns):
                rows.append(
                    [f"{split}-{d}-{t}", split, text, f"spk{t % 2}", f"{split}-{d}", t, label]
                )
    path = folder / "dialogues.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.fixture(scope="module")
def context_run(tmp_path_factory, dialogue_cues):
    folder = tmp_path_factory.mktemp("dialogue_run")
    manifest = write_manifest(folder, dialogue_cues)
    store = folder / "text.h5"
    assert main(["extract", str(manifest), "--modality", "text", "--out", str(store),
                 "--no-progress"]) == 0  # fmt: skip
    args = [
        f"data.corpus={manifest}", f"data.text_features={store}", "data.context_turns=2",
        "data.standardize=[text]", "data.max_text_len=2", "data.batch_size=16",
        "model.params.hidden_dim=16", "model.params.num_heads=2", "model.params.ff_mult=1",
        "trainer.max_epochs=2", "trainer.accelerator=cpu", "trainer.num_threads=1",
        "trainer.enable_progress_bar=false", "train.tensorboard=false",
        f"train.output_dir={folder / 'runs'}", "train.run_name=ctx",
    ]  # fmt: skip
    assert main(["train", *args]) == 0
    return folder / "runs" / "ctx"


def test_a_dialogue_reads_its_past_as_evaluation_does(context_run):
    corpus = explain_corpus(context_run, "test")
    recognizer = EmotionRecognizer.from_pretrained(context_run, asr="none")
    assert recognizer.spec.standardizers and recognizer.spec.max_text_len == 2
    dialogues: dict[str, list] = {}
    for exp in corpus:
        dialogues.setdefault(exp.utterance_id.rsplit("-", 1)[0], []).append(exp)
    for turns in dialogues.values():
        dialogue = recognizer.dialogue()
        for t, expected in enumerate(turns):
            result = dialogue.classify(text=expected.transcript, speaker=f"spk{t % 2}")
            past = expected.context_turns or []
            assert len(result.context_turns or []) == len(past) == min(t, 2)
            got = [result.probabilities[e] for e in result.emotions]
            want = [expected.probabilities[e] for e in expected.emotions]
            np.testing.assert_allclose(got, want, atol=1e-5)
            if past:
                np.testing.assert_allclose(
                    result.context_attribution, expected.context_attribution, atol=1e-5
                )
