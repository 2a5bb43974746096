"""`hri-emo explain` end to end: corpus utterances of a trained run (with --summary), a new
recording + transcript through the embedded encoders, and the errors a user can act on."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hri_emo.cli.main import main
from hri_emo.explain import alignment_accuracy, explain_corpus


def test_corpus_utterances_by_id(key_word_run, tmp_path, capsys):
    ids = sorted(key_word_run.key_position)[:2]
    out = tmp_path / "ids"
    assert main(["explain", str(key_word_run.run_dir), "--ids", *ids, "--out", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert all(utt_id in html for utt_id in ids)
    maps = json.loads((out / "explanations.json").read_text())
    assert [m["utterance_id"] for m in maps] == ids
    assert maps[0]["true_labels"] in (["positive"], ["negative"])
    assert np.array(maps[0]["alignment"]).shape == (len(maps[0]["words"]), 12)
    assert (out / "figures" / f"{ids[0]}_alignment.png").is_file()
    assert "report:" in capsys.readouterr().out


def test_corpus_summary_finds_the_deciding_words(key_word_run, tmp_path):
    out = tmp_path / "summary"
    args = ["explain", str(key_word_run.run_dir), "--summary", "--show", "2", "--out", str(out)]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["utterances"] == len(key_word_run.key_position)
    assert summary["top_words"]["positive"][0][0] == "great"  # counted over the whole split
    assert set(summary["beta_by_group"]["speaker"]) == {"spk0", "spk1", "spk2", "spk3"}
    assert set(summary["beta_by_true_label"]) == {"positive", "negative"}
    assert len(json.loads((out / "explanations.json").read_text())) == 2


def test_unknown_ids_are_named(key_word_run, tmp_path, capsys):
    code = main(["explain", str(key_word_run.run_dir), "--ids", "test_000", "nope-7"])
    assert code == 2
    assert "nope-7" in capsys.readouterr().err


def test_explain_corpus_limit(key_word_run):
    exps = explain_corpus(key_word_run.run_dir, "test", limit=3)
    assert len(exps) == 3 and exps[0].metadata["speaker"] == "spk0"


@pytest.fixture(scope="module")
def embedded_model(tmp_path_factory):
    """An untrained fusion model for the embedded MiniLM + Whisper tiny.en (both 384-d)."""
    from hri_emo.model import create_model

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("embedded")
    create_model("hriemo-v2", text_dim=384, audio_dim=384).save_pretrained(folder)
    return folder


def test_new_recording_and_transcript(embedded_model, tmp_path):
    from hri_emo.result import UtteranceExplanation
    from hri_emo.synth import synthesize

    text = "the robot is here today"
    speech = synthesize(text).resampled(16000)
    wav = speech.write(tmp_path / "input.wav")
    out = tmp_path / "new"
    args = ["explain", str(embedded_model), "--audio", str(wav), "--text", text, "--out", str(out)]
    assert main(args) == 0
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "the robot is here today" in html
    exp = UtteranceExplanation.from_dict(json.loads((out / "explanations.json").read_text())[0])
    assert exp.words == text.split() and exp.envelope is not None
    assert exp.duration_s == pytest.approx(speech.duration_s, abs=0.01)
    score = alignment_accuracy(exp, speech.word_spans)
    assert score["words"] == 5 and 0 <= score["accuracy"] <= 1 and 0 < score["chance"] < 1


def test_new_input_errors_are_those_of_classify(embedded_model, tmp_path, capsys):
    assert main(["explain", str(embedded_model), "--text", "   "]) == 2
    assert "transcript is empty" in capsys.readouterr().err
    silent = tmp_path / "empty.wav"
    import soundfile as sf

    sf.write(silent, np.zeros(0, dtype=np.float32), 16000)
    assert main(["explain", str(embedded_model), "--audio", str(silent)]) == 2
    assert str(silent) in capsys.readouterr().err
    assert main(["explain", str(embedded_model), "--text", "hi", "--limit", "3"]) == 2


def test_integrated_gradients_maps_on_request(key_word_run, tmp_path):
    out = tmp_path / "ig"
    ids = [i for i in sorted(key_word_run.key_position)][:2]
    args = ["explain", str(key_word_run.run_dir), "--ids", *ids, "--out", str(out)]
    assert main([*args, "--attribution", "integrated-gradients"]) == 0
    maps = json.loads((out / "explanations.json").read_text())
    for m in maps:
        assert m["attribution_method"] == "integrated-gradients"
        assert any("Integrated Gradients" in note for note in m["notes"])
        rows = np.array(m["attribution"])
        assert np.all(rows >= 0) and np.allclose(rows.sum(axis=1)[rows.sum(axis=1) > 0], 1.0)
        positive = m["emotions"].index("positive")
        if "great" in m["words"]:  # the deciding word carries the positive evidence
            assert m["words"][int(rows[positive].argmax())] == "great"


def test_corpus_mode_needs_a_training_run(embedded_model, capsys):
    assert main(["explain", str(embedded_model), "--limit", "2"]) == 2
    err = capsys.readouterr().err
    assert str(embedded_model) in err and "training run" in err
