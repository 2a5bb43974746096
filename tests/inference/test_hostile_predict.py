"""`hri-emo predict` with careless or hostile input (issue 21, items 9-13): options checked
before anything is opened, outputs written atomically and never overwritten unasked, errors
that name the right thing, every supported format in folders, a terminal that cannot be driven
by a transcript."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest
import soundfile as sf

from hri_emo.cli.main import main
from hri_emo.synth import synthesize

SENTENCE = "I am so happy to see you again today"


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    folder = tmp_path_factory.mktemp("voice")
    return synthesize(SENTENCE).write(folder / "voice.wav")


@pytest.fixture
def keep(tmp_path):
    """An output the user keeps: 18 lines that a failed run must not touch."""
    path = tmp_path / "keep.csv"
    path.write_text("".join(f"line {i}\n" for i in range(18)))
    return path


def run(capsys, *argv):
    code = main(["predict", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, err, *words):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hri-emo predict: error: "), err
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--batch-size", "0", ["--batch-size must be >= 1, got 0"]),
        ("--batch-size", "-3", ["--batch-size must be >= 1"]),
        ("--threads", "-1", ["--threads must be >= 1, got -1"]),
        ("--threads", "0", ["--threads must be >= 1"]),
        ("--max-seconds", "-5", ["--max-seconds must be a positive number"]),
        ("--max-seconds", "nan", ["--max-seconds"]),
        ("--max-seconds", "inf", ["--max-seconds"]),
    ],
)
def test_bad_options_touch_nothing(embedded_model_dir, voice, keep, capsys, option, value, words):
    before = keep.read_text()
    code, _, err = run(capsys, embedded_model_dir, "--input", voice.parent, "--output", keep,
                       "--overwrite", option, value)  # fmt: skip
    one_line_error(code, err, *words)
    assert keep.read_text() == before


@pytest.mark.parametrize(
    ("output", "extra", "words"),
    [
        ("keep.csv", [], ["exists; add --overwrite"]),
        ("", [], ["is a directory"]),
        ("out.txt", [], ["extension must be .csv"]),
        ("out.csv", ["--json"], ["extension must be .jsonl"]),
        ("missing/out.csv", [], ["does not exist"]),
    ],
)
def test_bad_outputs_are_refused(embedded_model_dir, voice, keep, capsys, output, extra, words):
    before = keep.read_text()
    target = keep.parent / output if output else keep.parent
    code, _, err = run(capsys, embedded_model_dir, "--input", voice.parent, "--output", target,
                       *extra)  # fmt: skip
    one_line_error(code, err, *words)
    assert keep.read_text() == before


def test_overwrite_replaces_atomically(embedded_model_dir, voice, keep, capsys):
    code, _, err = run(capsys, embedded_model_dir, "--input", voice.parent, "--output", keep,
                       "--overwrite", "--asr", "none")  # fmt: skip
    assert code == 0, err
    rows = list(csv.DictReader(keep.open()))
    assert [r["id"] for r in rows] == ["voice"] and rows[0]["error"] == ""
    assert sorted(os.listdir(keep.parent)) == ["keep.csv"]  # no temporary file left


def test_audio_paths_that_are_not_recordings(embedded_model_dir, tmp_path, capsys):
    loop = tmp_path / "loop.wav"
    os.symlink(tmp_path / "loop2.wav", loop)
    os.symlink(loop, tmp_path / "loop2.wav")
    text_mp3 = tmp_path / "notes.mp3"
    text_mp3.write_text("hello this is text, not audio\n")
    cases = {
        tmp_path: "is a directory, not an audio file",
        loop: "is a symbolic link loop",
        text_mp3: "is a text file, not MP3 audio",
        tmp_path / "missing.wav": "audio file not found",
    }
    for path, words in cases.items():
        code, _, err = run(capsys, embedded_model_dir, "--audio", path)
        one_line_error(code, err, words, str(path))
        assert "possibly a pipe" not in err and "mpg123" not in err.lower()


def test_jsonl_bad_line_is_an_error_row(embedded_model_dir, voice, tmp_path, capsys):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(
        json.dumps({"id": "a", "text": "I am happy"}) + "\n"
        + json.dumps({"id": "b", "audio": str(voice)}) + "\n"
        + '{"id": "c", "text": oops}\n'
        + "[1, 2]\n"
        + json.dumps({"id": "e", "text": "nul \u0000 here"}) + "\n"
        + json.dumps({"id": "f", "text": "see you tomorrow"}) + "\n"
    )  # fmt: skip
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, embedded_model_dir, "--input", manifest, "--output", out,
                       "--asr", "none")  # fmt: skip
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "row3", "row4", "e", "f"]
    assert "line 3: invalid JSON" in rows[2]["error"] and "m.jsonl" in rows[2]["error"]
    assert "line 4: expected a JSON object" in rows[3]["error"]
    assert "NUL" in rows[4]["error"]
    for ok in (0, 1, 5):
        assert rows[ok]["error"] is None and rows[ok]["result"]["predicted"] is not None
    assert "3 with errors" in err


def test_folder_takes_every_supported_format(embedded_model_dir, tmp_path, capsys):
    wave = synthesize(SENTENCE).resampled(16000).wave
    folder = tmp_path / "in"
    folder.mkdir()
    for name, fmt in (("a", "WAV"), ("b", "FLAC"), ("c", "OGG"), ("d", "MP3")):
        sf.write(folder / f"{name}.{fmt.lower()}", wave, 16000, format=fmt)
        (folder / f"{name}.txt").write_text(SENTENCE)
    (folder / "notes.md").write_text("not a recording")
    out = tmp_path / "out.csv"
    code, _, err = run(capsys, embedded_model_dir, "--input", folder, "--output", out)
    assert code == 0, err
    rows = {r["id"]: r for r in csv.DictReader(out.open())}
    assert sorted(rows) == ["a", "b", "c", "d"]
    durations = [float(rows[k]["duration_s"]) for k in "abcd"]
    assert all(r["error"] == "" for r in rows.values()), rows
    assert max(durations) - min(durations) < 0.1  # the same recording, whatever the format


def test_table_output_escapes_the_terminal(embedded_model_dir, capsys):
    text = "I am \x1b[31mso\x1b[0m happy \u202eyes\x07"
    code, out, err = run(capsys, embedded_model_dir, "--text", text)
    assert code == 0, err
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "\\x1b[31mso" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--text", "nul\x00here"], ["NUL"]),
        (["--text", "😀🎉"], ["no words"]),
        (["--text", "   "], ["nothing to classify"]),
        (["--text", "hi", "--input", "x.csv"], ["not both"]),
        (["--input", "nowhere.csv"], ["does not exist"]),
        (["--input", "manifest.txt"], ["expected a .csv or .jsonl"]),
        (["--text", "hello", "--output", "x.csv"], ["--output is for many"]),
    ],
)
def test_text_and_input_mistakes(embedded_model_dir, tmp_path, capsys, argv, words):
    (tmp_path / "manifest.txt").write_text("id,text\n")
    os.chdir(tmp_path)
    code, _, err = run(capsys, embedded_model_dir, *argv)
    one_line_error(code, err, *words)


def test_model_paths(tmp_path, capsys):
    file = tmp_path / "model.safetensors"
    file.write_bytes(b"x")
    one_line_error(*run(capsys, tmp_path / "nope", "--text", "hi")[::2], "does not exist")
    one_line_error(*run(capsys, file, "--text", "hi")[::2], "is a file")


def test_input_error_before_any_model_load(tmp_path, capsys):
    """An input mistake is found before the model folder is even read: a folder holding no
    model still gets the input's error, not the model's."""
    code, _, err = run(capsys, tmp_path, "--audio", tmp_path / "missing.wav")
    one_line_error(code, err, "audio file not found")


def test_short_clip_alone_is_refused_and_with_text_noted(embedded_model_dir, tmp_path, capsys):
    clip = tmp_path / "clip.wav"
    t = np.arange(800) / 16000
    sf.write(clip, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    code, _, err = run(capsys, embedded_model_dir, "--audio", clip)
    one_line_error(code, err, "too short to judge")
    code, out, err = run(capsys, embedded_model_dir, "--audio", clip, "--text", SENTENCE, "--json")
    assert code == 0, err
    notes = json.loads(out)["notes"]
    assert any("too short to judge" in n for n in notes), notes


def test_csv_manifest_with_nul_is_an_error_row(embedded_model_dir, tmp_path, capsys):
    manifest = tmp_path / "m.csv"
    manifest.write_bytes(b"id,text\na,I am happy\nb,bad\x00text\nc,see you soon\n")
    out = tmp_path / "out.csv"
    code, _, err = run(capsys, embedded_model_dir, "--input", manifest, "--output", out)
    assert code == 0, err
    rows = {r["id"]: r for r in csv.DictReader(out.open())}
    assert "NUL" in rows["b"]["error"] and rows["a"]["error"] == rows["c"]["error"] == ""
