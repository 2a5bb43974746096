"""A real uvicorn server on a loopback port, serving the real recognizer (MiniLM + Whisper
tiny.en + an untrained hriemo-v2: weights do not matter to the protocol), and eSpeak NG
speech (hri_emo.synth)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvicorn

from hri_emo.serve.app import create_app, uvicorn_options
from hri_emo.serve.limits import ServeLimits
from hri_emo.serve.settings import ServeSettings
from hri_emo.synth import synthesize

SENTENCES = {
    "happy": "I am so happy to see you again today",
    "table": "Please put the red cup on the kitchen table",
}


@pytest.fixture(scope="session")
def sentences() -> dict[str, str]:
    return dict(SENTENCES)


@pytest.fixture(scope="session")
def model_dir(embedded_model_dir) -> Path:
    """save_pretrained hriemo-v2 with 384-d inputs: the embedded encoders' dimensions."""
    return embedded_model_dir


@pytest.fixture(scope="session")
def recognizer(model_dir):
    from hri_emo.inference import EmotionRecognizer

    return EmotionRecognizer.from_pretrained(model_dir)


@pytest.fixture(scope="session")
def speech(tmp_path_factory) -> dict[str, Path]:
    """eSpeak NG renderings (22.05 kHz mono wav) of SENTENCES."""
    folder = tmp_path_factory.mktemp("speech")
    paths = {}
    for name, sentence in SENTENCES.items():
        paths[name] = synthesize(sentence).write(folder / f"{name}.wav")
    return paths


@pytest.fixture(scope="session")
def stream_wav(speech, tmp_path_factory) -> tuple[Path, list[tuple[float, float]]]:
    """Two utterances with silence around them (16 kHz), and their true spans in seconds."""
    import soundfile as sf

    from hri_emo.encoders import load_audio

    rate, gap = 16000, np.zeros(16000, np.float32)
    pieces, spans, cursor = [gap], [], 1.0
    for path in speech.values():
        wave = load_audio(path)
        spans.append((cursor, cursor + len(wave) / rate))
        pieces += [wave, gap]
        cursor += len(wave) / rate + 1.0
    path = tmp_path_factory.mktemp("stream") / "two_utterances.wav"
    sf.write(str(path), np.concatenate(pieces), rate, subtype="PCM_16")
    return path, spans


@dataclass
class LiveServer:
    """uvicorn serving `create_app(settings)` in a thread on an already bound loopback port."""

    settings: ServeSettings
    recognizer: object
    thread: threading.Thread | None = None
    server: uvicorn.Server | None = None
    logs: list[str] = field(default_factory=list)
    configure: Any = None  # called with the app before it is served

    def start(self) -> LiveServer:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.settings.port = sock.getsockname()[1]
        options = uvicorn_options(self.settings)
        options.pop("host"), options.pop("port")
        app = create_app(self.settings, self.recognizer)
        if self.configure is not None:
            self.configure(app)
        config = uvicorn.Config(app, **options)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]})
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.settings.port}/v1/stream"

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=30)
            assert not self.thread.is_alive(), "the test server did not stop"


@pytest.fixture(scope="module")
def server(recognizer):
    """The default server (loopback, no token), shared by a test module."""
    live = LiveServer(ServeSettings(), recognizer).start()
    yield live
    live.stop()


@pytest.fixture
def make_server(recognizer):
    """Start servers with custom settings; each is stopped after the test."""
    started: list[LiveServer] = []

    def make(**settings) -> LiveServer:
        limits = settings.pop("limits", {})
        live = LiveServer(ServeSettings(limits=ServeLimits(**limits), **settings), recognizer)
        started.append(live.start())
        return live

    yield make
    for live in started:
        live.stop()
