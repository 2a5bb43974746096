"""Voice-activity detectors, behind one small interface: for the stream segmenter (serve) and
for admission (`speech_seconds`: a recording without speech is not judged).

Both take 16 kHz int16 mono frames of a fixed size and say how likely each one is speech:

- `SileroVad` (default): the silero-vad ONNX model shipped inside its PyPI package, run with
  onnxruntime. One session is shared by every stream; each stream keeps its own recurrent state.
  It tells speech from noise and music far better than an energy or GMM detector.
- `WebRtcVad`: Google's WebRTC GMM detector (PyPI `webrtcvad`), lighter and cruder.

benchmarks/bench_vad.py measures both (accuracy on speech in noise, CPU per frame);
docs/serving.md has the numbers behind the default.
"""

from __future__ import annotations

import threading
from importlib import resources
from typing import Protocol

import numpy as np

from hri_emo.errors import ConfigError

VAD_SAMPLE_RATE = 16_000
VAD_NAMES = ("silero", "webrtc")


class VoiceActivityDetector(Protocol):
    """`frame_samples` int16 samples at 16 kHz in, a speech probability in [0, 1] out."""

    name: str
    frame_samples: int

    def speech_probability(self, frame: np.ndarray) -> float: ...

    def reset(self) -> None: ...


class _SileroSession:
    """The shared onnxruntime session (loaded once per process, thread-safe to run)."""

    _lock = threading.Lock()
    _session = None

    @classmethod
    def get(cls):
        with cls._lock:
            if cls._session is None:
                import onnxruntime

                options = onnxruntime.SessionOptions()
                options.inter_op_num_threads = 1
                options.intra_op_num_threads = 1
                path = resources.files("silero_vad.data") / "silero_vad.onnx"
                cls._session = onnxruntime.InferenceSession(
                    str(path), sess_options=options, providers=["CPUExecutionProvider"]
                )
            return cls._session


class SileroVad:
    """silero-vad v5 on 32 ms frames (512 samples + 64 samples of context)."""

    name = "silero"
    frame_samples = 512
    context_samples = 64

    def __init__(self) -> None:
        self._session = _SileroSession.get()
        self._rate = np.array(VAD_SAMPLE_RATE, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros((1, self.context_samples), dtype=np.float32)

    def speech_probability(self, frame: np.ndarray) -> float:
        samples = (frame.astype(np.float32) / 32768.0)[None, :]  # (1, 512)
        window = np.concatenate([self._context, samples], axis=1)  # (1, 576)
        inputs = {"input": window, "state": self._state, "sr": self._rate}
        probability, self._state = self._session.run(None, inputs)
        self._context = window[:, -self.context_samples :]
        return float(probability[0, 0])


class WebRtcVad:
    """webrtcvad on 30 ms frames; `aggressiveness` 0 (keeps most) .. 3 (drops most)."""

    name = "webrtc"
    frame_samples = 480

    def __init__(self, aggressiveness: int = 2) -> None:
        try:
            import _webrtcvad  # the C extension; `webrtcvad.py` needs pkg_resources to import
        except ImportError as err:
            raise ConfigError("vad 'webrtc' needs the webrtcvad package") from err
        self._vad_module = _webrtcvad
        self._vad = _webrtcvad.create()
        _webrtcvad.init(self._vad)
        _webrtcvad.set_mode(self._vad, int(aggressiveness))

    def reset(self) -> None:
        """Stateless between frames, apart from its adaptive noise model: nothing to reset."""

    def speech_probability(self, frame: np.ndarray) -> float:
        data = np.ascontiguousarray(frame, dtype="<i2").tobytes()
        return float(self._vad_module.process(self._vad, VAD_SAMPLE_RATE, data, len(frame)))


def create_vad(name: str) -> VoiceActivityDetector:
    """A fresh detector (one per stream): "silero" or "webrtc"."""
    if name == "silero":
        return SileroVad()
    if name == "webrtc":
        return WebRtcVad()
    raise ConfigError(f"unknown vad {name!r}; choose one of {', '.join(VAD_NAMES)}")


def speech_seconds(
    wave: np.ndarray, enough_s: float | None = None, threshold: float = 0.5
) -> float:
    """Seconds of speech in a float32 mono 16 kHz recording: silero-vad frames whose speech
    probability reaches `threshold`. Stops counting once `enough_s` is reached (when given)."""
    vad = SileroVad()
    size = vad.frame_samples
    pcm = (np.clip(wave, -1.0, 1.0) * 32767).astype(np.int16)
    frames = 0
    for start in range(0, len(pcm) - size + 1, size):
        frames += vad.speech_probability(pcm[start : start + size]) >= threshold
        if enough_s is not None and frames * size >= enough_s * VAD_SAMPLE_RATE:
            break
    return frames * size / VAD_SAMPLE_RATE
