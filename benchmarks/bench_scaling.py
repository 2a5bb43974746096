"""Scaling of `hri-emo extract`, `hri-emo predict` and `hri-emo serve` from 1 to 2 workers, in
one run: throughput ratios and resident memory per worker (docs/scaling.md).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_scaling.py --count 48

Runs the real commands in subprocesses: `torchrun --standalone --nproc-per-node N -m hri_emo.cli
extract|predict ...` and `hri-emo serve --processes N`, each worker with one thread, over a
synthetic corpus of `--count` 3 s speech-like recordings with transcripts. Throughput leaves
out process start and model loading (paid once per run; its wall time is printed too):
extraction's from the seconds `hri-emo extract` reports (encoding, writing, and for 2 workers
the merge), prediction's from the rows appearing in the output (or the per-rank part files)
between the first and the last one.
Serving throughput: `--requests` POST /v1/predict (audio + transcript) from 4 client threads.
Memory: the peak resident set (VmHWM) of each worker process, from /proc while it runs.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import soundfile as sf

from hri_emo.synth.tone import synthetic_voice

SENTENCES = ["i am so happy to see you today", "please put the red cup on the table",
             "you never listen to me", "what a wonderful surprise"]  # fmt: skip
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def write_corpus(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(count):
        wave = synthetic_voice(3.0) * (0.5 + 0.5 * ((i % 7) / 7))
        sf.write(folder / f"u{i:04d}.wav", wave, 16000, subtype="PCM_16")
        name = f"u{i:04d}.wav"
        rows.append({"id": name[:-4], "split": "train", "text": SENTENCES[i % 4], "wav": name,
                     "audio": name, "label": "happy"})  # fmt: skip
    path = folder / "manifest.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                kids = [int(p) for p in (task / "children").read_text().split()]
                found += kids
                todo += kids
        except OSError:
            continue
    return found


def status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class PeakMemory:
    """Polls the peak resident set (VmHWM) of every descendant of a process, and `rows()`."""

    def __init__(self, pid: int, rows=None) -> None:
        self.pid, self.peaks, self._stop = pid, {}, threading.Event()
        self.rows, self.history = rows, []
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            for child in descendants(self.pid):
                self.peaks[child] = max(self.peaks.get(child, 0), status_kib(child, "VmHWM"))
            count = self.rows() if self.rows else 0
            if count and (not self.history or count != self.history[-1][1]):
                self.history.append((time.perf_counter(), count))
            time.sleep(0.05)

    def rate(self) -> float:
        """Rows per second between the first and the last rows seen."""
        (t0, n0), (t1, n1) = self.history[0], self.history[-1]
        return (n1 - n0) / max(t1 - t0, 1e-9)

    def workers_mib(self, minimum_mib: float = 300) -> list[float]:
        """Peak MiB of the processes that loaded a model (launchers and helpers are small)."""
        self._stop.set()
        self._thread.join()
        return sorted(kib / 1024 for kib in self.peaks.values() if kib / 1024 > minimum_mib)


def run(argv: list[str], nproc: int, rows=None) -> tuple[float, str, PeakMemory]:
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                f"--nproc-per-node={nproc}", "-m", "hri_emo.cli"]  # fmt: skip
    start = time.perf_counter()
    process = subprocess.Popen([*launcher, *argv], env=ENV, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    memory = PeakMemory(process.pid, rows)
    out, err = process.communicate()
    seconds = time.perf_counter() - start
    memory.workers_mib()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{err[-3000:]}")
    return seconds, out + err, memory


def batch_scaling(name: str, make_argv, count: int) -> dict:
    """utterances/s with 1 and 2 workers, start-up left out; `make_argv(nproc)` gives the
    command line and a function counting the rows done so far (None: read the summary)."""
    figures = {}
    for nproc in (1, 2):
        argv, rows = make_argv(nproc)
        wall, output, memory = run(argv, nproc, rows)
        if rows is None:
            seconds = float(re.search(r"\(([\d.]+) s\)", output).group(1))
            rate = count / seconds
        else:
            rate = memory.rate()
        worker_mib = memory.workers_mib()
        figures[nproc] = rate
        print(f"{name:8s} {nproc} worker(s): {rate:6.2f} utt/s, whole command {wall:5.1f} s, "
              f"peak memory per worker {', '.join(f'{m:.0f}' for m in worker_mib)} MiB",
              flush=True)  # fmt: skip
    print(f"{name:8s} 2 workers / 1 worker throughput: {figures[2] / figures[1]:.2f}x", flush=True)
    return figures


def count_rows(output: Path):
    """Rows written so far: the part files' (less their headers) while they exist, else the
    output's lines."""
    parts = output.with_name(output.name + ".parts")

    def rows() -> int:
        try:
            if parts.is_dir():
                files = list(parts.glob("*.jsonl"))
                return sum(f.read_bytes().count(b"\n") for f in files) - len(files)
            return output.read_bytes().count(b"\n") if output.exists() else 0
        except OSError:
            return 0

    return rows


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_once(model: Path, wav: Path, nproc: int, requests: int) -> float:
    """Requests/s of `hri-emo serve --processes nproc` once every worker is ready."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "hri_emo.cli", "serve", str(model), "--port", str(port),
               "--processes", str(nproc), "--asr", "none", "--vad", "webrtc",
               "--torch-threads", "1", "--queue-size", "16"]  # fmt: skip
    start = time.perf_counter()
    server = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    audio = wav.read_bytes()

    def post(i: int) -> int:
        files = {"audio": ("a.wav", audio, "audio/wav"), "text": (None, SENTENCES[i % 4])}
        return httpx.post(f"{url}/v1/predict", files=files, timeout=120).status_code

    try:
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        ready_s = time.perf_counter() - start
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(post, range(4)))  # every worker's first request
            begin = time.perf_counter()
            codes = list(pool.map(post, range(requests)))
            seconds = time.perf_counter() - begin
        # one process serves itself; with several, uvicorn's parent only supervises its workers
        workers = [server.pid] if nproc == 1 else descendants(server.pid)
        memory = sorted(status_kib(p, "VmRSS") / 1024 for p in workers)
        memory = [m for m in memory if m > 150]
        parent_mib = status_kib(server.pid, "VmRSS") / 1024
    finally:
        server.terminate()
        server.wait(timeout=60)
    rate = codes.count(200) / seconds
    print(f"serve    {nproc} process(es): {rate:6.2f} req/s ({codes.count(200)}/{requests} ok), "
          f"ready after {ready_s:.1f} s, resident memory per worker "
          f"{', '.join(f'{m:.0f}' for m in memory)} MiB"
          + (f" (+ supervisor {parent_mib:.0f} MiB)" if nproc > 1 else ""), flush=True)  # fmt: skip
    return rate


def serve_scaling(model: Path, wav: Path, requests: int) -> None:
    rates = {nproc: serve_once(model, wav, nproc, requests) for nproc in (1, 2)}
    print(f"serve    2 processes / 1 process throughput: {rates[2] / rates[1]:.2f}x", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=48, help="utterances (3 s each)")
    parser.add_argument("--requests", type=int, default=48, help="serve: POST /v1/predict count")
    parser.add_argument("--encoder", default="whisper-tiny-en", help="extraction audio encoder")
    parser.add_argument(
        "--only", default="extract,predict,serve", help="comma-separated subset to measure"
    )
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU cores visible (shared with other jobs: see the load below); "
          f"load average {os.getloadavg()}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        manifest = write_corpus(root / "corpus", args.count)
        model = root / "model"
        import torch

        from hri_emo.model import create_model

        torch.manual_seed(0)
        create_model("hriemo-v2", text_dim=384, audio_dim=384).save_pretrained(model)

        def extract_argv(nproc: int):
            return ["extract", str(manifest), "--modality", "audio", "--encoder", args.encoder,
                    "--out", str(root / f"x{nproc}.h5"), "--no-progress"], None  # fmt: skip

        def predict_argv(nproc: int):
            output = root / f"p{nproc}.jsonl"
            argv = ["predict", str(model), "--input", str(manifest), "--output", str(output),
                    "--asr", "none", "--threads", "1", "--batch-size", "4"]  # fmt: skip
            return argv, count_rows(output)

        only = args.only.split(",")
        if "extract" in only:
            batch_scaling("extract", extract_argv, args.count)
        if "predict" in only:
            batch_scaling("predict", predict_argv, args.count)
            rows = (root / "p2.jsonl").read_text().splitlines()
            failed = sum('"error": null' not in row for row in rows)
            print(f"predict  rows by 2 workers: {len(rows)}, error rows: {failed}", flush=True)
        if "serve" in only:
            serve_scaling(model, root / "corpus" / "u0000.wav", args.requests)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
