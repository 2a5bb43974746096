"""Reference client of WS /v1/stream: stream a wav file or the microphone, get each utterance's
emotions. This is the piece a ROS 2 node wraps (docs/serving.md shows one).

    python -m hri_emo.serve.client ws://127.0.0.1:8000/v1/stream --wav hello.wav
    python -m hri_emo.serve.client ws://127.0.0.1:8000/v1/stream --mic     # needs sounddevice

    async with StreamClient(url, sample_rate=16000) as client:
        await client.send_audio(pcm16_bytes)      # any number of times, any size <= the limit
        await client.send_transcript("hello there")
        await client.end_utterance()
        async for message in client.messages():   # "result", "warning", "speech_start", ...
            ...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import websockets

FRAME_MS = 20  # audio per binary frame the client sends


class StreamClient:
    """One stream session: the start message on connect, then audio, transcripts and marks."""

    def __init__(
        self,
        url: str,
        sample_rate: int,
        *,
        token: str | None = None,
        segmentation: str = "vad",
        maps: bool = False,
        silence_end_s: float | None = None,
        speaker: str | None = None,
        attribution: str | None = None,
    ) -> None:
        self.url, self.sample_rate, self.token = url, sample_rate, token
        self.start = {
            "type": "start",
            "sample_rate": sample_rate,
            "segmentation": segmentation,
            "maps": maps,
        }
        if silence_end_s is not None:
            self.start["silence_end_s"] = silence_end_s
        if speaker is not None:  # who speaks: the dialogue context of a context model
            self.start["speaker"] = speaker
        if attribution is not None:  # the word map: "attention" (default) or "erasure"
            self.start["attribution"] = attribution
        self.ready: dict[str, Any] | None = None
        self._ws: Any = None

    async def __aenter__(self) -> StreamClient:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
        self._ws = await websockets.connect(
            self.url, additional_headers=headers, max_size=64 * 2**20
        )
        await self._ws.send(json.dumps(self.start))
        self.ready = json.loads(await self._ws.recv())
        if self.ready.get("type") != "ready":
            await self._ws.close()
            raise ConnectionError(f"the server refused the stream: {self.ready}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._ws.close()

    async def send_audio(self, pcm16: bytes) -> None:
        await self._ws.send(pcm16)

    async def send_transcript(self, text: str) -> None:
        await self._ws.send(json.dumps({"type": "transcript", "text": text}))

    async def end_utterance(self) -> None:
        await self._ws.send(json.dumps({"type": "end_utterance"}))

    async def stop(self) -> None:
        """Ask the server to answer what is left; `messages()` then ends with "end"."""
        await self._ws.send(json.dumps({"type": "stop"}))

    async def messages(self) -> AsyncIterator[dict[str, Any]]:
        """Server messages until the stream ends (after "end", or when the server closes)."""
        try:
            async for raw in self._ws:
                message = json.loads(raw)
                yield message
                if message.get("type") == "end":
                    return
        except websockets.ConnectionClosed:
            return


def pcm16_frames(wave: np.ndarray, sample_rate: int, frame_ms: int = FRAME_MS) -> list[bytes]:
    """Float samples in [-1, 1] as little-endian 16-bit PCM frames of `frame_ms`."""
    pcm = (np.clip(wave, -1, 1) * 32767).astype("<i2")
    step = max(1, sample_rate * frame_ms // 1000)
    return [pcm[i : i + step].tobytes() for i in range(0, len(pcm), step)]


async def stream_wave(
    url: str,
    wave: np.ndarray,
    sample_rate: int,
    *,
    realtime: bool = True,
    transcripts: list[tuple[float, str]] = (),
    token: str | None = None,
    maps: bool = False,
    on_message: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Stream a recording (paced like a microphone when `realtime`), then stop; returns every
    server message. `transcripts`: (stream second, text) pieces, each sent when the stream
    reaches that second. `on_message` sees each message as it arrives."""
    received: list[dict[str, Any]] = []
    pieces = sorted(transcripts)
    async with StreamClient(url, sample_rate, token=token, maps=maps) as client:

        async def listen() -> None:
            async for message in client.messages():
                message.setdefault("received_at", time.perf_counter())
                received.append(message)
                if on_message is not None:
                    on_message(message)

        listener = asyncio.create_task(listen())
        begin, sent = time.perf_counter(), 0
        for frame in pcm16_frames(wave, sample_rate):
            while pieces and pieces[0][0] <= sent / sample_rate:
                await client.send_transcript(pieces.pop(0)[1])
            await client.send_audio(frame)
            sent += len(frame) // 2
            if realtime:
                await asyncio.sleep(max(0.0, begin + sent / sample_rate - time.perf_counter()))
        for _, text in pieces:
            await client.send_transcript(text)
        await client.stop()
        await listener
    return received


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """(mono float32 samples, sample rate) of a wav file, at its own rate."""
    import soundfile as sf

    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return data.mean(axis=1), int(rate)


async def stream_microphone(
    url: str, sample_rate: int, token: str | None, on_message: Callable[[dict[str, Any]], None]
) -> None:
    """Stream the default microphone until Ctrl-C (needs the `sounddevice` package)."""
    try:
        import sounddevice
    except ImportError:
        raise SystemExit("--mic needs the sounddevice package (pip install sounddevice)") from None
    loop, frames = asyncio.get_running_loop(), asyncio.Queue()

    def captured(indata, _frames, _time, _status) -> None:
        loop.call_soon_threadsafe(frames.put_nowait, bytes(indata))

    async with StreamClient(url, sample_rate, token=token) as client:
        listener = asyncio.create_task(_print_all(client, on_message))
        with sounddevice.RawInputStream(
            samplerate=sample_rate,
            channels=1,
            dtype="int16",
            blocksize=sample_rate * FRAME_MS // 1000,
            callback=captured,
        ):
            try:
                while True:
                    await client.send_audio(await frames.get())
            except asyncio.CancelledError:
                await client.stop()
        await listener


async def _print_all(client: StreamClient, on_message: Callable[[dict[str, Any]], None]) -> None:
    async for message in client.messages():
        on_message(message)


def describe(message: dict[str, Any]) -> str:
    """One line per server message, for people."""
    if message.get("type") != "result":
        return json.dumps({k: v for k, v in message.items() if k != "received_at"})
    result = message["result"]
    top = max(result["probabilities"], key=result["probabilities"].get)
    beta = result.get("beta_mean")
    return (
        f"[{message['start_s']:6.2f}-{message['end_s']:6.2f} s] "
        f"{', '.join(result['predicted']) or '-'} (top {top} "
        f"{result['probabilities'][top]:.2f}; beta {'-' if beta is None else f'{beta:.2f}'})"
        f" {result.get('transcript') or ''}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stream audio to hri-emo serve's /v1/stream.")
    parser.add_argument("url", help="e.g. ws://127.0.0.1:8000/v1/stream")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--wav", type=Path, help="a recording to stream")
    source.add_argument("--mic", action="store_true", help="the default microphone")
    parser.add_argument("--text", default=None, help="a transcript sent with the first utterance")
    parser.add_argument("--fast", action="store_true", help="send the wav as fast as possible")
    parser.add_argument("--rate", type=int, default=16000, help="microphone sample rate")
    parser.add_argument("--token", default=None, help="API token (when the server has one)")
    parser.add_argument("--json", action="store_true", help="print raw JSON messages")
    args = parser.parse_args(argv)

    def show(message: dict[str, Any]) -> None:
        print(json.dumps(message) if args.json else describe(message), flush=True)

    if args.mic:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(stream_microphone(args.url, args.rate, args.token, show))
        return 0
    wave, rate = read_wav(args.wav)
    pieces = [(0.0, args.text)] if args.text else []
    asyncio.run(
        stream_wave(
            args.url,
            wave,
            rate,
            realtime=not args.fast,
            transcripts=pieces,
            token=args.token,
            on_message=show,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
