"""Cut a live 16 kHz stream into utterances: voice activity, explicit end marks, a length cap.

    segmenter = UtteranceSegmenter(create_vad("silero"), SegmenterConfig())
    for event in segmenter.push(int16_samples):    # SpeechStarted or SpeechSegment events
        ...
    last = segmenter.end_utterance()                # the client's end-of-utterance mark

With `segmentation="vad"` an utterance opens after `min_speech_s` of speech (its start moved
back by `pre_roll_s`, so the first syllable is kept) and closes after `silence_end_s` of
silence, at its last speech frame (+ `post_roll_s`). With `segmentation="client"` the detector
is not used: an utterance is everything between two end marks. In both modes an utterance that
reaches `max_utterance_s` is cut there (reason "max_length") and the next one goes on.
Times are in seconds of stream audio since the start message.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from hri_emo.errors import ConfigError
from hri_emo.inference.vad import VAD_SAMPLE_RATE, VoiceActivityDetector

SEGMENTATIONS = ("vad", "client")


@dataclass
class SegmenterConfig:
    segmentation: str = "vad"  # "vad" or "client" (end marks only)
    threshold: float = 0.5  # speech probability at or above which a frame is speech
    min_speech_s: float = 0.1  # speech needed to open an utterance
    silence_end_s: float = 0.3  # silence that closes it
    pre_roll_s: float = 0.2  # audio kept before the first speech frame
    post_roll_s: float = 0.1  # audio kept after the last speech frame
    max_utterance_s: float = 15.0

    def validate(self) -> None:
        if self.segmentation not in SEGMENTATIONS:
            raise ConfigError(
                f"segmentation {self.segmentation!r}: expected one of {', '.join(SEGMENTATIONS)}"
            )
        if self.max_utterance_s <= 0:
            raise ConfigError(f"max_utterance_s must be > 0, got {self.max_utterance_s}")


@dataclass
class SpeechStarted:
    start_s: float


@dataclass
class SpeechSegment:
    start_s: float
    end_s: float
    audio: np.ndarray  # (N,) float32 at 16 kHz
    reason: str  # "silence", "end_mark", "max_length" or "stop"

    @property
    def duration_s(self) -> float:
        return len(self.audio) / VAD_SAMPLE_RATE


class UtteranceSegmenter:
    """Feed int16 16 kHz samples with `push`; utterances come out as they close."""

    def __init__(self, vad: VoiceActivityDetector | None, config: SegmenterConfig) -> None:
        config.validate()
        if config.segmentation == "vad" and vad is None:
            raise ConfigError("segmentation 'vad' needs a voice-activity detector")
        self.config = config
        self.vad = vad
        self.frame = vad.frame_samples if vad is not None else 480  # samples per decision
        rate = VAD_SAMPLE_RATE
        self._min_speech = max(1, round(config.min_speech_s * rate / self.frame))
        self._silence_end = max(1, round(config.silence_end_s * rate / self.frame))
        self._post_roll = round(config.post_roll_s * rate / self.frame)
        self._max_frames = max(1, int(config.max_utterance_s * rate / self.frame))
        self._pre_roll: deque[np.ndarray] = deque(
            maxlen=round(config.pre_roll_s * rate / self.frame)
        )
        self._partial = np.zeros(0, dtype=np.int16)
        self._frames_seen = 0  # decided frames so far (stream clock)
        self._open: list[np.ndarray] | None = None  # frames of the open utterance
        self._open_start = 0  # frame index where it starts
        self._speech_run = 0  # consecutive speech frames (before opening)
        self._silence_run = 0  # consecutive silent frames (while open)
        self._last_speech = 0  # frame index just after the last speech frame

    @property
    def stream_s(self) -> float:
        """Seconds of audio received so far."""
        return (self._frames_seen * self.frame + len(self._partial)) / VAD_SAMPLE_RATE

    @property
    def open_s(self) -> float:
        """Length of the utterance being collected (0 when none is open)."""
        return 0.0 if self._open is None else len(self._open) * self.frame / VAD_SAMPLE_RATE

    def push(self, samples: np.ndarray) -> list[SpeechStarted | SpeechSegment]:
        """Add int16 samples; returns the events their frames caused, in order."""
        data = np.concatenate([self._partial, samples.astype(np.int16, copy=False)])
        usable = len(data) // self.frame * self.frame
        self._partial = data[usable:]
        events: list[SpeechStarted | SpeechSegment] = []
        for frame in data[:usable].reshape(-1, self.frame):
            events.extend(self._step(frame))
        return events

    def end_utterance(self, reason: str = "end_mark") -> SpeechSegment | None:
        """Close the open utterance now (the client's end mark); None when none is open."""
        if self.config.segmentation == "client":
            if len(self._partial):
                self._partial = np.pad(self._partial, (0, self.frame - len(self._partial)))
                self._open = (self._open or []) + [self._partial]
                self._frames_seen += 1
                self._partial = np.zeros(0, dtype=np.int16)
            self._last_speech = self._frames_seen
        if not self._open:
            return None
        return self._close(reason, keep_tail=True)

    def _step(self, frame: np.ndarray) -> list[SpeechStarted | SpeechSegment]:
        index = self._frames_seen
        self._frames_seen += 1
        if self.config.segmentation == "client":
            return self._collect(frame, index, speech=True)
        speech = self.vad.speech_probability(frame) >= self.config.threshold
        if self._open is None:
            return self._maybe_open(frame, index, speech)
        return self._collect(frame, index, speech)

    def _maybe_open(self, frame: np.ndarray, index: int, speech: bool) -> list[SpeechStarted]:
        self._pre_roll.append(frame)
        self._speech_run = self._speech_run + 1 if speech else 0
        if self._speech_run < self._min_speech:
            return []
        self._open = list(self._pre_roll)
        self._open_start = index + 1 - len(self._open)
        self._pre_roll.clear()
        self._silence_run, self._last_speech = 0, index + 1
        return [SpeechStarted(self._open_start * self.frame / VAD_SAMPLE_RATE)]

    def _collect(self, frame: np.ndarray, index: int, speech: bool) -> list:
        events: list = []
        if self._open is None:  # client segmentation: the first frame opens the utterance
            self._open, self._open_start = [], index
            events.append(SpeechStarted(index * self.frame / VAD_SAMPLE_RATE))
        self._open.append(frame)
        if speech:
            self._silence_run, self._last_speech = 0, index + 1
        else:
            self._silence_run += 1
        if self.config.segmentation == "vad" and self._silence_run >= self._silence_end:
            events.append(self._close("silence", keep_tail=False))
        elif len(self._open) >= self._max_frames:
            self._last_speech = index + 1
            events.append(self._close("max_length", keep_tail=True))
        return events

    def _close(self, reason: str, keep_tail: bool) -> SpeechSegment:
        frames = self._open or []
        end = len(frames) if keep_tail else self._last_speech - self._open_start + self._post_roll
        end = max(1, min(end, len(frames)))
        audio = np.concatenate(frames[:end]).astype(np.float32) / 32768.0
        start_s = self._open_start * self.frame / VAD_SAMPLE_RATE
        utterance = SpeechSegment(start_s, start_s + len(audio) / VAD_SAMPLE_RATE, audio, reason)
        self._open, self._speech_run, self._silence_run = None, 0, 0
        if self.vad is not None:
            self._pre_roll.extend(frames[end:])  # trailing silence is the next pre-roll
        return utterance
