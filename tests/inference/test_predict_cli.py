"""`hri-emo predict`: one utterance, a folder and a manifest, with and without transcripts;
every bad input becomes an error row naming its file, and the run goes on; `predict_batch`."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import soundfile as sf

from hri_emo.cli.main import main
from hri_emo.errors import DataError
from hri_emo.inference.asr import normalise_words
from hri_emo.synth import synthesize


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Good recordings (with and without a transcript beside them) and the bad cases."""
    root = tmp_path_factory.mktemp("predict_in")
    happy = synthesize("I am so happy to see you again today")
    happy.write(root / "a_happy.wav")  # no transcript: ASR
    speech = synthesize("Please put the red cup on the kitchen table")
    speech.write(root / "b_table.wav")
    (root / "b_table.txt").write_text("Please put the red cup on the kitchen table")
    wave16 = happy.resampled(16000).wave
    sf.write(root / "c_stereo48k.wav", np.stack([wave16, wave16], 1).repeat(3, 0), 48000)
    sf.write(root / "d_8k.wav", happy.resampled(8000).wave, 8000)
    (root / "e_corrupt.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    sf.write(root / "f_silent.wav", np.zeros(16000, np.float32), 16000)
    sf.write(root / "g_empty.wav", np.zeros(0, np.float32), 16000)
    speech.write(root / "h_latin1.wav")
    (root / "h_latin1.txt").write_bytes("très content".encode("latin-1"))
    speech.write(root / "i_empty_text.wav")
    (root / "i_empty_text.txt").write_text("  \n")
    sf.write(root / "j_ten_minutes.wav", np.zeros(600 * 8000, np.int16), 8000)
    return root


def read_csv(path):
    with open(path, newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def test_a_folder_gives_one_row_per_file_and_errors_name_the_file(
    embedded_model_dir, folder, tmp_path
):
    out = tmp_path / "out.csv"
    code = main(["predict", str(embedded_model_dir), "--input", str(folder),
                 "--output", str(out), "--batch-size", "3"])  # fmt: skip
    assert code == 0
    rows = read_csv(out)
    assert len(rows) == len(list(folder.glob("*.wav")))
    ok = {"a_happy", "b_table", "c_stereo48k", "d_8k"}
    for name in ok:
        assert rows[name]["error"] == "" and rows[name]["predicted"], name
        probs = [float(rows[name][k]) for k in rows[name] if k.startswith("p_")]
        assert len(probs) == 6 and all(0 <= p <= 1 for p in probs)
    assert rows["a_happy"]["transcript_source"] == "asr"
    assert normalise_words(rows["a_happy"]["transcript"])[:4] == ["i", "am", "so", "happy"]
    assert 0 < float(rows["a_happy"]["asr_confidence"]) <= 1
    assert rows["b_table"]["transcript_source"] == "given"
    assert float(rows["c_stereo48k"]["duration_s"]) == pytest.approx(
        float(rows["a_happy"]["duration_s"]), abs=0.01
    )
    expected = {
        "e_corrupt": "corrupt or not an audio file",
        "f_silent": "is silent",
        "g_empty": "is empty",
        "h_latin1": "h_latin1.txt is not UTF-8",
        "i_empty_text": "i_empty_text.txt is empty",
        "j_ten_minutes": "lasts 600.0 s, over the 120 s limit",
    }
    for name, message in expected.items():
        assert message in rows[name]["error"] and name in rows[name]["error"], rows[name]


def test_a_manifest_to_jsonl_and_asr_off(embedded_model_dir, folder, tmp_path):
    manifest = tmp_path / "m.jsonl"
    lines = [
        {"id": "u1", "audio": str(folder / "a_happy.wav")},
        {"id": "u2", "text": "what a lovely surprise"},
        {"id": "u3", "audio": str(folder / "b_table.wav"), "text": "put the cup down"},
        {"id": "u4", "audio": "missing.wav"},
    ]
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "out.jsonl"
    code = main(["predict", str(embedded_model_dir), "--input", str(manifest),
                 "--output", str(out), "--asr", "none"])  # fmt: skip
    assert code == 0
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["u1"]["result"]["transcript"] is None and rows["u1"]["result"]["words"] == []
    assert rows["u2"]["result"]["transcript_source"] == "given"
    assert rows["u3"]["result"]["words"] == ["put", "the", "cup", "down"]
    assert "alignment" not in rows["u3"]["result"]  # no maps unless --maps
    assert rows["u4"]["result"] is None and "missing.wav" in rows["u4"]["error"]


def test_a_manifests_word_times_are_used_and_bad_ones_are_error_rows(
    embedded_model_dir, folder, tmp_path
):
    """`word_times` (a JSON list per row: a CSV cell or a JSONL value) reach the model as the
    caller's word spans; a row whose times cannot be right gets an error naming it."""
    text = "Please put the red cup on the kitchen table"
    spans = [[round(float(t), 3) for t in span] for span in synthesize(text).word_spans]
    wav = str(folder / "b_table.wav")
    rows = [
        {"id": "good", "audio": wav, "text": text, "word_times": json.dumps(spans)},
        {"id": "none", "audio": wav, "text": text, "word_times": ""},
        {"id": "count", "audio": wav, "text": text, "word_times": json.dumps(spans[:3])},
        {"id": "notjson", "audio": wav, "text": text, "word_times": "[[0, 1]"},
        {"id": "noaudio", "audio": "", "text": text, "word_times": json.dumps(spans)},
    ]
    manifest = tmp_path / "m.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "out.jsonl"
    code = main(["predict", str(embedded_model_dir), "--input", str(manifest),
                 "--output", str(out), "--asr", "none"])  # fmt: skip
    assert code == 0
    got = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert got["good"]["result"]["word_times"] == spans
    assert got["good"]["result"]["alignment_confidence"] is None  # not aligned again
    assert got["none"]["result"]["alignment_confidence"] > 0.3  # aligned by the recognizer
    assert "word_times must give one (start, end)" in got["count"]["error"]
    assert "9 word(s), got 3" in got["count"]["error"]
    assert "word_times is not a JSON list" in got["notjson"]["error"]
    assert "give both the recording and the transcript" in got["noaudio"]["error"]
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text(json.dumps({"id": "list", "audio": wav, "text": text, "word_times": spans}))
    code = main(["predict", str(embedded_model_dir), "--input", str(jsonl),
                 "--output", str(tmp_path / "out2.jsonl"), "--asr", "none"])  # fmt: skip
    [row] = map(json.loads, (tmp_path / "out2.jsonl").read_text().splitlines())
    assert code == 0 and row["result"]["word_times"] == spans


def test_one_utterance_as_json_and_as_a_table(embedded_model_dir, folder, capsys):
    args = ["predict", str(embedded_model_dir), "--audio", str(folder / "a_happy.wav")]
    assert main([*args, "--json", "--maps"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["transcript_source"] == "asr" and len(result["word_times"]) == len(
        result["words"]
    )
    assert np.asarray(result["alignment"]).shape[0] == len(result["words"])
    assert main(["predict", str(embedded_model_dir), "--text", "I love this"]) == 0
    out = capsys.readouterr().out
    assert "transcript (given): I love this" in out and "predicted (multilabel)" in out


def test_bad_models_and_arguments_are_clear_errors(embedded_model_dir, tmp_path, capsys):
    assert main(["predict", str(tmp_path / "nowhere"), "--text", "hi"]) == 2
    assert "is not a trained model" in capsys.readouterr().err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.safetensors").write_bytes(b"")
    assert main(["predict", str(broken), "--text", "hi"]) == 2
    assert "config.json is missing" in capsys.readouterr().err
    future = tmp_path / "future"
    future.mkdir()
    (future / "model.safetensors").write_bytes((embedded_model_dir / "model.safetensors")
                                              .read_bytes())  # fmt: skip
    config = json.loads((embedded_model_dir / "config.json").read_text())
    config["architecture"] = "hriemo-v9"
    (future / "config.json").write_text(json.dumps(config))
    assert main(["predict", str(future), "--text", "hi"]) == 2
    assert "hriemo-v9" in capsys.readouterr().err
    assert main(["predict", str(embedded_model_dir)]) == 2
    assert "nothing to classify" in capsys.readouterr().err


def test_predict_batch_matches_classify(asr_recognizer, spoken):
    waves = [s.resampled(16000).wave for s in spoken]
    texts = [None, "I am so happy", " ".join(spoken[2].words)]
    waves[1] = None
    batch = asr_recognizer.predict_batch(waves, texts, batch_size=2)
    for wave, text, result in zip(waves, texts, batch):
        alone = asr_recognizer.classify(wave, text)
        assert result.transcript == alone.transcript
        assert result.words == alone.words and result.word_times == alone.word_times
        assert result.probabilities == pytest.approx(alone.probabilities, abs=1e-5)
    assert batch[0].transcript_source == "asr" and batch[1].duration_s is None
    times = [None, None, [tuple(span) for span in spoken[2].word_spans]]
    [timed] = asr_recognizer.predict_batch(waves[2:], texts[2:], word_times=times[2:])
    alone = asr_recognizer.classify(waves[2], texts[2], word_times=times[2])
    assert timed.word_times == alone.word_times == times[2]
    assert timed.probabilities == pytest.approx(alone.probabilities, abs=1e-5)
    with pytest.raises(DataError, match="item 0: word_times"):
        asr_recognizer.predict_batch(waves[2:], texts[2:], word_times=[times[2][:2]])


def test_word_erasure_for_one_utterance_and_for_many(embedded_model_dir, tmp_path, capsys):
    """--attribution erasure: the word map of each answer is word erasure (items classified one
    by one), and an unusable item is still an error row."""
    model = str(embedded_model_dir)
    args = ["predict", model, "--text", "I am so glad you came", "--attribution", "erasure"]
    assert main([*args, "--json", "--maps"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["attribution_method"] == "erasure"
    assert len(result["attribution"]) == len(result["emotions"])
    manifest = tmp_path / "items.jsonl"
    rows = [{"id": "glad", "text": "I am so glad you came"}, {"id": "empty", "text": " "}]
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "out.jsonl"
    code = main(["predict", model, "--input", str(manifest), "--output", str(out),
                 "--attribution", "erasure", "--asr", "none"])  # fmt: skip
    assert code == 0
    answers = {row["id"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert answers["glad"]["result"]["attribution_method"] == "erasure"
    assert answers["empty"]["error"] and answers["empty"]["result"] is None
