"""`hri-emo robustness` on real runs: waveform noise re-encoded through Whisper, text re-encoded
through MiniLM, missing modalities, feature noise, and the errors a user can act on."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from hri_emo.cli.main import main
from hri_emo.errors import ConfigError
from hri_emo.robustness.runner import evaluate_robustness, load_run


def test_table_plot_and_json_for_a_run_and_its_baseline(recorded_runs, tmp_path, capsys):
    out = tmp_path / "report"
    conditions = "clean,white-0db,babble-10db,telephone,word-dropout-50pct,no-audio,no-text"
    args = ["robustness", str(recorded_runs.v2), "--compare", str(recorded_runs.text_only)]
    assert main([*args, "--conditions", conditions, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    table = json.loads((out / "robustness.json").read_text())["table"]
    assert set(table) == set(conditions.split(","))
    assert (out / "robustness.png").stat().st_size > 10_000
    assert "| white-0db | audio noise |" in printed and "hriemo-v2 (1 run)" in printed
    v2, text_only = table["clean"]["hriemo-v2"], table["clean"]["text-only"]
    assert 0 <= v2["beta"] <= 1 and v2["metric"] is not None
    assert table["no-audio"]["hriemo-v2"]["beta"] == pytest.approx(0.0, abs=1e-6)
    assert table["no-text"]["hriemo-v2"]["beta"] == pytest.approx(1.0, abs=1e-6)
    # the text-only model ignores audio: noisy audio cannot change it, missing text stops it
    assert table["white-0db"]["text-only"]["metric"] == text_only["metric"]
    assert table["no-text"]["text-only"]["metric"] is None
    assert "text" in table["no-text"]["text-only"]["note"]
    assert table["word-dropout-50pct"]["hriemo-v2"]["wer"] == pytest.approx(0.5, abs=0.2)
    # one corrupted store per (condition, encoder), shared by both runs
    assert len(list((out / "cache").glob("white-0db-audio-*.h5"))) == 1


def test_clean_condition_reproduces_hri_emo_evaluate(recorded_runs, tmp_path):
    assert main(["evaluate", str(recorded_runs.v2), "--output", str(tmp_path / "ev")]) == 0
    evaluated = json.loads((tmp_path / "ev" / "metrics.json").read_text())["metrics"]
    [clean] = evaluate_robustness([recorded_runs.v2], conditions=["clean"], cache_dir=tmp_path)
    assert clean.metrics["accuracy"] == pytest.approx(evaluated["accuracy"])
    assert clean.metrics["loss"] == pytest.approx(evaluated["loss"], abs=1e-6)


def test_noisier_audio_changes_the_prediction_inputs(recorded_runs, tmp_path):
    """0 dB white noise re-encoded through Whisper moves the v2 model's output (the corruption
    really reaches the model); 60 dB barely does."""
    results = evaluate_robustness(
        [recorded_runs.v2], conditions=["clean", "white-60db", "white-0db"], cache_dir=tmp_path
    )
    loss = {r.condition: r.metrics["loss"] for r in results}
    assert abs(loss["white-60db"] - loss["clean"]) < abs(loss["white-0db"] - loss["clean"])


def test_waveform_condition_on_a_corpus_without_recordings_says_use_feature_noise(
    feature_run, tmp_path, capsys
):
    args = ["robustness", str(feature_run), "--conditions", "white-10db", "--out", str(tmp_path)]
    assert main(args) == 2
    error = capsys.readouterr().err
    assert "no recordings" in error and "feature-noise-10db" in error


def test_feature_noise_on_record_features(feature_run, tmp_path):
    results = evaluate_robustness(
        [feature_run],
        conditions=["clean", "feature-noise-20db", "feature-noise-0db", "no-audio"],
        cache_dir=tmp_path,
    )
    by = {r.condition: r for r in results}
    assert all(r.metric is not None for r in results)
    assert by["feature-noise-0db"].metrics["loss"] != by["clean"].metrics["loss"]
    assert by["no-audio"].beta == pytest.approx(0.0, abs=1e-6)
    default = evaluate_robustness([feature_run], conditions=None, cache_dir=tmp_path)
    assert "feature-noise-10db" in {r.condition for r in default}
    assert "white-10db" not in {r.condition for r in default}


def test_a_condition_needing_an_encoder_the_run_cannot_rebuild_names_it(recorded_runs, tmp_path):
    features = recorded_runs.v2 / "checkpoints" / "best" / "features.json"
    saved = features.read_text()
    entry = json.loads(saved)
    entry["audio"]["encoder"] = "my-private-encoder"
    features.write_text(json.dumps(entry))
    try:
        with pytest.raises(ConfigError, match="my-private-encoder"):
            evaluate_robustness([recorded_runs.v2], conditions=["white-10db"], cache_dir=tmp_path)
    finally:
        features.write_text(saved)


def test_whisper_asr_without_speech_recognition_is_reported_not_a_crash(
    recorded_runs, tmp_path, monkeypatch
):
    monkeypatch.setitem(sys.modules, "hri_emo.inference.asr", None)  # not installed
    results = evaluate_robustness(
        [recorded_runs.v2], conditions=["clean", "whisper-asr"], cache_dir=tmp_path
    )
    by = {r.condition: r for r in results}
    assert by["clean"].metric is not None
    assert by["whisper-asr"].metric is None
    assert "speech recognition" in by["whisper-asr"].note


@pytest.mark.slow
def test_whisper_asr_transcribes_the_recordings_once_for_all_runs(recorded_runs, tmp_path):
    asr = pytest.importorskip("hri_emo.inference.asr")
    calls = []
    whisper = asr.create_asr("auto")
    original = whisper.transcribe
    whisper.transcribe = lambda wave: calls.append(len(wave)) or original(wave)
    runs = [recorded_runs.v2, recorded_runs.text_only]
    results = evaluate_robustness(
        runs, conditions=["whisper-asr"], cache_dir=tmp_path, transcriber=whisper
    )
    v2, text_only = results
    assert v2.metric is not None and v2.wer is not None  # tones, not words: any WER
    # an utterance where Whisper heard nothing has no text: fusion answers, text-only cannot
    assert text_only.metric is not None or "text" in text_only.note
    assert len(calls) == len(load_run(recorded_runs.v2, "test").records)


def test_an_asr_that_hears_no_word_leaves_the_text_missing_not_an_error(recorded_runs, tmp_path):
    """The embedded Whisper, given silence in place of each recording, hears no word in any test
    utterance: v2 answers from the audio alone (beta 1), text-only has nothing to read."""
    asr = pytest.importorskip("hri_emo.inference.asr")
    whisper = asr.create_asr("auto")
    original = whisper.transcribe
    whisper.transcribe = lambda wave: original(np.zeros_like(wave))
    runs = [recorded_runs.v2, recorded_runs.text_only]
    v2, text_only = evaluate_robustness(
        runs, conditions=["whisper-asr"], cache_dir=tmp_path, transcriber=whisper
    )
    assert v2.wer == pytest.approx(1.0)  # every word missed
    assert v2.metric is not None and v2.beta == pytest.approx(1.0)
    assert text_only.metric is None and "text" in text_only.note
