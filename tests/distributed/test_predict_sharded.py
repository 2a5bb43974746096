"""`torchrun --nproc-per-node 2 -m hri_emo.cli predict MODEL --input manifest --output FILE`: one
output with exactly the rows of a single-process run (error rows included), each written once,
also after a worker is killed and the run resumed."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hri_emo.distributed.predict import part_path

SENTENCES = ["i am so happy today", "the robot is here", "you make me sad", "leave me alone",
             "what a wonderful surprise", "this is fine"]  # fmt: skip
TOLERANCE = 1e-5  # the same items batched differently: float summation order differs


def write_predict_manifest(folder: Path, count: int, with_audio: bool = True) -> Path:
    """`count` transcripts; with audio also a real recording and a missing one (an error row)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"id": f"t{i:03d}", "text": SENTENCES[i % len(SENTENCES)], "audio": ""}
            for i in range(count)]  # fmt: skip
    if with_audio:
        t = np.arange(16000) / 16000
        sf.write(folder / "tone.wav", 0.3 * np.sin(2 * np.pi * 180 * t), 16000)
        rows.insert(2, {"id": "a_ok", "text": "hello robot", "audio": "tone.wav"})
        rows.insert(5, {"id": "a_missing", "text": "", "audio": "missing.wav"})
    path = folder / "manifest.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "text", "audio"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def assert_close(got, want, where: str = "") -> None:
    """Equal JSON values, floats within TOLERANCE; per-run timings are not compared."""
    if isinstance(want, dict):
        assert got.keys() == want.keys(), where
        for key in want:
            if key != "timings_ms":
                assert_close(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert len(got) == len(want), where
        for i, (a, b) in enumerate(zip(got, want)):
            assert_close(a, b, f"{where}[{i}]")
    elif isinstance(want, float):
        assert got == pytest.approx(want, abs=TOLERANCE), where
    else:
        assert got == want, where


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def predict_args(model, manifest, out, *extra) -> list[str]:
    return ["predict", str(model), "--input", str(manifest), "--out", str(out), "--asr", "none",
            "--threads", "1", *extra]  # fmt: skip


def test_two_workers_write_the_rows_of_one(embedded_model_dir, tmp_path, cli):
    manifest = write_predict_manifest(tmp_path / "in", 9)
    single, sharded = tmp_path / "single.jsonl", tmp_path / "sharded.jsonl"
    done = cli(*predict_args(embedded_model_dir, manifest, single, "--batch-size", "4"))
    assert done.returncode == 0, done.stderr
    done = cli(*predict_args(embedded_model_dir, manifest, sharded, "--batch-size", "3"), nproc=2)
    assert done.returncode == 0, done.stderr
    assert "10 of 11 utterances classified" in done.stderr and "[2 workers]" in done.stderr
    want, got = read_jsonl(single), read_jsonl(sharded)
    assert [r["id"] for r in got] == [r["id"] for r in want]
    assert_close(got, want)
    errors = [r["id"] for r in got if r["error"]]
    assert errors == ["a_missing"] and "missing.wav" in got[5]["error"]
    assert not sharded.with_name("sharded.jsonl.parts").exists()

    csv_single, csv_sharded = tmp_path / "single.csv", tmp_path / "sharded.csv"
    assert cli(*predict_args(embedded_model_dir, manifest, csv_single)).returncode == 0
    assert cli(*predict_args(embedded_model_dir, manifest, csv_sharded), nproc=2).returncode == 0
    with csv_single.open() as a, csv_sharded.open() as b:
        want_rows, got_rows = list(csv.DictReader(a)), list(csv.DictReader(b))
    assert [r["id"] for r in got_rows] == [r["id"] for r in want_rows]
    for got_row, want_row in zip(got_rows, want_rows):
        for key, value in want_row.items():
            if key.startswith("p_") and value:
                assert float(got_row[key]) == pytest.approx(float(value), abs=TOLERANCE)
            else:
                assert got_row[key] == value, key


def _rank_pid(parent: int, rank: int) -> int | None:
    """The pid of the torchrun worker with RANK=`rank` among the descendants of `parent`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"RANK={rank}".encode() in environ and _descends(int(entry.name), parent):
            return int(entry.name)
    return None


def _descends(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False
        pid = int(re.search(r"PPid:\s+(\d+)", status).group(1))
    return False


def test_killed_worker_then_resume_writes_each_row_once(embedded_model_dir, tmp_path, cli):
    count = 120
    manifest = write_predict_manifest(tmp_path / "in", count, with_audio=False)
    out = tmp_path / "preds.jsonl"
    argv = predict_args(embedded_model_dir, manifest, out, "--batch-size", "1")
    process = cli.popen(2, *argv)
    part = part_path(out, 1, 2)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if part.exists() and part.read_bytes().count(b"\n") >= 6:  # header + 5 rows
                os.kill(_rank_pid(process.pid, 1), signal.SIGKILL)
                break
            time.sleep(0.02)
    finally:
        process.communicate(timeout=120)
    assert process.returncode != 0 and not out.exists()
    kept = part.read_bytes().count(b"\n") - 1
    assert 5 <= kept < count // 2

    done = cli(*argv, nproc=2)
    assert done.returncode == 0, done.stderr
    resumed = int(re.search(r"; (\d+) resumed", done.stderr).group(1))
    assert resumed >= kept
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == [f"t{i:03d}" for i in range(count)]  # each row once
    single = tmp_path / "single.jsonl"
    assert cli(*predict_args(embedded_model_dir, manifest, single)).returncode == 0
    assert_close(rows, read_jsonl(single))


def test_part_files_drop_a_torn_line_and_refuse_another_run(tmp_path):
    from hri_emo.distributed.predict import PartWriter, read_part
    from hri_emo.errors import DataError

    path = tmp_path / "parts" / "rank-00000-of-00002.jsonl"
    header = {"format": "hri-emo-predict-part", "items": 3, "ids_sha256": "x", "fmt": "jsonl"}
    writer = PartWriter(path, header)
    writer.append([{"i": 0, "error": False, "row": "a\n"}])
    writer.close()
    with path.open("ab") as handle:  # a writer killed in the middle of a line
        handle.write(b'{"i": 2, "error": fal')
    assert list(read_part(path, header)) == [0]
    writer = PartWriter(path, header)  # resuming cuts the torn line off
    writer.append([{"i": 2, "error": True, "row": "c\n"}])
    writer.close()
    assert list(read_part(path, header)) == [0, 2]
    with pytest.raises(DataError, match="another predict run"):
        read_part(path, {**header, "items": 4})
