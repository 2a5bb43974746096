"""Load test of `hri-emo serve` on loopback: HTTP at 1, 2, 4, 8 concurrent clients, then
concurrent real-time WebSocket streams. Bounded (a fixed number of requests and utterances),
ends by itself, and stops the server it started.

Utterances: 3.0 s of eSpeak NG speech each, sent with their transcript. For HTTP it prints
p50/p95/p99 latency, throughput and errors per concurrency. For the streams it prints, per
utterance, the delay from the utterance's true end (the moment its last sample was sent) to
its answer: with VAD segmentation (the server waits for silence) and with client end marks.

    python benchmarks/load_test.py --model runs/my-run          # starts hri-emo serve itself
    python benchmarks/load_test.py --untrained                   # an untrained hriemo-v2
    python benchmarks/load_test.py --url http://127.0.0.1:8000   # a server already running
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import numpy as np
import soundfile as sf

from hri_emo.serve.client import StreamClient, pcm16_frames
from hri_emo.serve.settings import is_loopback
from hri_emo.synth import synthesize

RATE, UTTERANCE_S, GAP_S = 16000, 3.0, 1.0
SENTENCES = [
    "I am so happy to see you again today it has been such a long time my friend",
    "Please put the red cup on the kitchen table and then come back to me",
    "That was not what I asked you to do at all and I am getting annoyed now",
    "Could you come a little closer to me because I cannot hear you very well",
]


def utterances() -> list[tuple[np.ndarray, str]]:
    """Each sentence spoken by eSpeak NG, trimmed to its voiced span and cut to 3.0 s."""
    items = []
    for sentence in SENTENCES:
        wave = synthesize(sentence).resampled(RATE).wave
        voiced = np.flatnonzero(np.abs(wave) > 0.02)
        wave = wave[voiced[0] :][: int(UTTERANCE_S * RATE)]
        wave = np.pad(wave, (0, int(UTTERANCE_S * RATE) - len(wave)))
        items.append((wave.astype(np.float32), sentence))
    return items


def wav_bytes(wave: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, wave, RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def percentiles(values_ms: list[float]) -> str:
    if not values_ms:
        return "p50 -  p95 -  p99 -  max -"
    p50, p95, p99 = np.percentile(values_ms, [50, 95, 99])
    return f"p50 {p50:6.1f}  p95 {p95:6.1f}  p99 {p99:6.1f}  max {max(values_ms):6.1f} ms"


async def http_level(url: str, items, clients: int, requests: int) -> dict:
    """`clients` concurrent clients share `requests` requests; each waits for its answer."""
    bodies = [(wav_bytes(w), t) for w, t in items]
    latencies, errors, todo = [], [], list(range(requests))

    async def client_loop(client: httpx.AsyncClient) -> None:
        while todo:
            audio, text = bodies[todo.pop() % len(bodies)]
            start = time.perf_counter()
            try:
                response = await client.post(
                    "/v1/predict", files={"audio": ("u.wav", audio)}, data={"text": text}
                )
                if response.status_code == 200:
                    latencies.append(1000 * (time.perf_counter() - start))
                else:
                    errors.append(f"HTTP {response.status_code}")
            except httpx.HTTPError as err:
                errors.append(type(err).__name__)

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        begin = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        wall = time.perf_counter() - begin
    return {"latencies": latencies, "errors": errors, "throughput": len(latencies) / wall}


async def one_stream(
    ws_url: str, items, segmentation: str, rounds: int, silence_end_s: float
) -> dict:
    """Stream utterances in real time (speech, then GAP_S of silence). Per answer, the delay
    from the moment the last sample of its segment was sent (a VAD segment that ends inside
    the trailing silence counts from the true end of the speech)."""
    spans: list[tuple[float, float]] = []  # stream seconds of each utterance's speech
    delays, errors, segments = [], [], 0
    silence = np.zeros(int(GAP_S * RATE), np.float32)
    begin = time.perf_counter()
    vad_option = {"silence_end_s": silence_end_s} if segmentation == "vad" else {}
    async with StreamClient(ws_url, RATE, segmentation=segmentation, **vad_option) as client:

        async def listen() -> None:
            nonlocal segments
            async for message in client.messages():
                if message["type"] == "result":
                    arrived = time.perf_counter() - begin
                    speech_end = min(
                        [e for s, e in spans if s < message["end_s"] <= e + GAP_S]
                        or [message["end_s"]]
                    )
                    delays.append(1000 * (arrived - min(message["end_s"], speech_end)))
                    segments += 1
                elif message["type"] in ("error", "warning"):
                    errors.append(message.get("code"))

        listener = asyncio.create_task(listen())
        begin, sent = time.perf_counter(), 0
        for r in range(rounds):
            wave, text = items[r % len(items)]
            await client.send_transcript(text)
            spans.append((sent / RATE, sent / RATE + len(wave) / RATE))
            last = r == rounds - 1 and segmentation == "client"  # no trailing silence segment
            for part, is_speech in ((wave, True), (silence[: 0 if last else None], False)):
                for frame in pcm16_frames(part, RATE):
                    await client.send_audio(frame)
                    sent += len(frame) // 2
                    await asyncio.sleep(max(0.0, begin + sent / RATE - time.perf_counter()))
                if is_speech and segmentation == "client":
                    await client.end_utterance()
        await client.stop()
        await listener
    if segments < rounds:
        errors += ["unanswered"] * (rounds - segments)
    return {"delays": delays, "errors": errors, "segments": segments}


async def streams(ws_url: str, items, args: argparse.Namespace, mode: tuple) -> dict:
    segmentation, silence_end_s = mode
    runs = await asyncio.gather(
        *(
            one_stream(ws_url, items, segmentation, args.rounds, silence_end_s)
            for _ in range(args.streams)
        )
    )
    return {
        "delays": [d for r in runs for d in r["delays"]],
        "errors": [e for r in runs for e in r["errors"]],
        "segments": sum(r["segments"] for r in runs),
    }


def start_server(args: argparse.Namespace, folder: Path) -> tuple[subprocess.Popen, str]:
    model = args.model
    if model is None:
        import torch

        from hri_emo.model import create_model

        torch.manual_seed(0)
        model = create_model("hriemo-v2", text_dim=384, audio_dim=384).save_pretrained(
            folder / "untrained"
        )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "hri_emo.cli.main",
        "serve",
        str(model),
        "--port",
        str(port),
        "--queue-size",
        "64",
        *args.server_arg,
    ]
    log = open(folder / "server.log", "w")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit(f"the server did not become ready; see {folder / 'server.log'}")


async def run(url: str, items, args: argparse.Namespace) -> None:
    info = httpx.get(f"{url}/v1/model").json()
    print(
        f"server: {info['model']['name']}, backend {info['backend']}, workers "
        f"{info['limits']['workers']}; load before: {os.getloadavg()[0]:.2f}"
    )
    await http_level(url, items, 1, 4)  # warm-up
    print(
        f"HTTP POST /v1/predict, {UTTERANCE_S:g} s wav + transcript, {args.requests} requests"
        " per level"
    )
    for clients in args.clients:
        level = await http_level(url, items, clients, args.requests)
        print(
            f"  {clients} clients: {level['throughput']:5.1f} utt/s  "
            f"{percentiles(level['latencies'])}  errors {len(level['errors'])}"
            f"{' ' + str(sorted(set(level['errors']))) if level['errors'] else ''}"
        )
    ws_url = url.replace("http://", "ws://") + "/v1/stream"
    modes = [("vad", silence) for silence in args.silence_end_s] + [("client", None)]
    for mode in modes:
        result = await streams(ws_url, items, args, mode)
        late = sum(d > 500 for d in result["delays"])
        label = f"VAD, silence_end_s {mode[1]}" if mode[0] == "vad" else "client end marks"
        print(
            f"WS {args.streams} real-time streams x {args.rounds} utterances, {label}: "
            f"answer after utterance end {percentiles(result['delays'])}; "
            f"over 500 ms: {late}/{len(result['delays'])}; segments {result['segments']} for "
            f"{args.streams * args.rounds} utterances; errors {len(result['errors'])}"
        )
    print(f"load after: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="a running server (loopback only)")
    target.add_argument("--model", type=Path, help="serve this model (started and stopped here)")
    target.add_argument("--untrained", action="store_true", help="serve an untrained hriemo-v2")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--requests", type=int, default=48, help="HTTP requests per level")
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4, help="utterances per stream")
    parser.add_argument(
        "--silence-end-s",
        type=float,
        nargs="+",
        default=[0.3, 0.2],
        help="VAD silence that ends an utterance (the start message option)",
    )
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="extra hri-emo serve argument (repeatable), e.g. --server-arg=--workers=2",
    )
    args = parser.parse_args()
    if args.url and not is_loopback(urlparse(args.url).hostname or ""):
        raise SystemExit("the load test only targets loopback servers (127.0.0.1, ::1, localhost)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        items = utterances()
        process = None
        url = args.url
        if url is None:
            process, url = start_server(args, folder)
        try:
            asyncio.run(run(url.rstrip("/"), items, args))
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=60)


if __name__ == "__main__":
    main()
