"""Speech synthesis with eSpeak NG through its C API, with the exact time span of every word.

The library and its voice data come from the `espeakng-loader` PyPI package, so no system
package is needed. eSpeak NG reports an event per spoken word with its sample position; those
positions are kept, so every synthetic utterance carries ground-truth word spans (the reference
for the alignment check of the explanations and for ASR word timestamps).

    speech = synthesize("I am so happy to see you", voice="en-us+f3", rate=200, pitch=70)
    speech.wave, speech.sample_rate, speech.words, speech.word_spans

eSpeak NG keeps global state, so calls are serialised by a lock (one synthesis at a time per
process); a call costs a few milliseconds per second of speech.
"""

from __future__ import annotations

import ctypes
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hri_emo.errors import ConfigError

# espeak_AUDIO_OUTPUT, espeak_PARAMETER, espeak_EVENT_TYPE and flags from speak_lib.h
_OUTPUT_SYNCHRONOUS = 2
_PARAMETERS = {"rate": 1, "volume": 2, "pitch": 3, "pitch_range": 4, "word_gap": 7}
_EVENT_END_OF_LIST, _EVENT_WORD, _EVENT_MSG_TERMINATED = 0, 1, 6
_CHARS_UTF8 = 1
# Ranges eSpeak NG accepts (rate in words per minute; word_gap in units of 10 ms).
LIMITS = {
    "rate": (80, 450),
    "volume": (0, 200),
    "pitch": (0, 100),
    "pitch_range": (0, 100),
    "word_gap": (0, 100),
}
TRIM_LEVEL = 0.02  # a word's span ends at its last sample above this share of the peak


class _Event(ctypes.Structure):
    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based character position of the word
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms
        ("sample", ctypes.c_int),  # sample index from the start of this synthesis
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    )


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass
class Speech:
    """One synthesised utterance: int16-range float32 samples scaled to [-1, 1], and word spans."""

    wave: np.ndarray  # (N,) float32
    sample_rate: int
    words: list[str]  # the text's whitespace words
    word_spans: list[tuple[float, float] | None]  # seconds; None only for a word with no audio
    voice: str = ""
    settings: dict[str, int] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return len(self.wave) / self.sample_rate

    def resampled(self, sample_rate: int) -> Speech:
        """The same speech at another sample rate (word spans are in seconds, unchanged)."""
        import soxr

        if sample_rate == self.sample_rate:
            return self
        wave = soxr.resample(self.wave, self.sample_rate, sample_rate).astype(np.float32)
        return Speech(wave, sample_rate, self.words, self.word_spans, self.voice, self.settings)

    def write(self, path: str | Path) -> Path:
        """Write a 16-bit PCM wav."""
        import soundfile as sf

        path = Path(path)
        sf.write(str(path), self.wave, self.sample_rate, subtype="PCM_16")
        return path


class _Engine:
    """The process-wide eSpeak NG instance (loaded on first use)."""

    def __init__(self) -> None:
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.libc = ctypes.CDLL(None)  # its rand(): see speak
        self.lib.espeak_Initialize.argtypes = (
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        )
        self.lib.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
        self.lib.espeak_Synth.argtypes = (
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        )
        data = espeakng_loader.get_data_path().encode()
        self.sample_rate = self.lib.espeak_Initialize(_OUTPUT_SYNCHRONOUS, 0, data, 0)
        if self.sample_rate <= 0:
            raise ConfigError(f"eSpeak NG did not initialise (data folder {data.decode()})")
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, int]] = []  # (text_position, sample) of word events
        self._callback = _Callback(self._receive)  # kept alive as long as the engine
        self.lib.espeak_SetSynthCallback(self._callback)

    def _receive(self, wav, n_samples, events) -> int:
        if n_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).copy())
        i = 0
        while events[i].type not in (_EVENT_END_OF_LIST, _EVENT_MSG_TERMINATED):
            if events[i].type == _EVENT_WORD:
                self._events.append((events[i].text_position, events[i].sample))
            i += 1
        return 0

    def speak(self, text: str, voice: str, settings: dict[str, int]):
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            examples = "'en', 'en-us', 'en-gb-scotland', 'en-us+f3'"
            raise ConfigError(f"eSpeak NG has no voice {voice!r} (e.g. {examples})")
        for name, value in settings.items():
            self.lib.espeak_SetParameter(_PARAMETERS[name], int(value), 0)
        self._chunks, self._events = [], []
        # Some voice variants (en+f2, en-us+f5, ...) draw noise from random generators that are
        # otherwise seeded from the clock: the same call sounded different from second to second.
        self.libc.srand(0)
        self.lib.espeak_ng_SetRandSeed(ctypes.c_long(0))
        encoded = text.encode("utf-8")
        status = self.lib.espeak_Synth(encoded, len(encoded) + 1, 0, 1, 0, _CHARS_UTF8, None, None)
        self.lib.espeak_Synchronize()
        if status != 0:
            raise ConfigError(f"eSpeak NG failed on {text!r} (status {status})")
        pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return pcm, list(self._events)


_engine: _Engine | None = None
_lock = threading.Lock()

DEFAULTS = {"rate": 175, "volume": 100, "pitch": 50, "pitch_range": 50, "word_gap": 0}


def synthesize(text: str, voice: str = "en-us", **settings: int) -> Speech:
    """Speak `text` with `voice` (a name, optionally with a variant: "en-us+f3").

    `settings`: rate (words/min), volume, pitch, pitch_range (0-100), word_gap (x 10 ms);
    unspecified ones take eSpeak NG's defaults (DEFAULTS). The random generators are seeded per
    call, but eSpeak NG keeps other state between calls: after other speech the same call can
    differ by a few samples (the demo corpus is therefore spoken by a fresh process).
    """
    global _engine
    if not text or not text.strip():
        raise ConfigError("synthesize needs a non-empty text")
    unknown = set(settings) - set(LIMITS)
    if unknown:
        raise ConfigError(f"unknown speech setting(s) {sorted(unknown)}; known: {sorted(LIMITS)}")
    resolved = {**DEFAULTS, **settings}
    for name, value in resolved.items():
        low, high = LIMITS[name]
        if not low <= value <= high:
            raise ConfigError(f"speech setting {name}={value} is outside [{low}, {high}]")
    with _lock:
        if _engine is None:
            _engine = _Engine()
        pcm, events = _engine.speak(text, voice, resolved)
        rate = _engine.sample_rate
    wave = pcm.astype(np.float32) / 32768.0
    words, spans = _word_spans(text, events, wave, rate)
    return Speech(wave, rate, words, spans, voice, resolved)


def _word_spans(
    text: str, events: list[tuple[int, int]], wave: np.ndarray, rate: int
) -> tuple[list[str], list[tuple[float, float] | None]]:
    """Each whitespace word's span, from its word event to the next event (or the end), with the
    trailing pause trimmed off by energy.

    eSpeak NG sometimes speaks two words as one ("on the"): the words of such a group share its
    span in proportion to their length in characters. Only words before the first event (none in
    practice) or with no audio at all are left as None."""
    words = [(m.group(), m.start() + 1, m.end() + 1) for m in re.finditer(r"\S+", text)]
    starts: list[int | None] = [None] * len(words)
    for position, sample in events:
        for i, (_, first, end) in enumerate(words):
            if first <= position < end and starts[i] is None:
                starts[i] = sample
                break
    heads = [i for i, start in enumerate(starts) if start is not None]
    threshold = TRIM_LEVEL * float(np.abs(wave).max() or 1.0)
    spans: list[tuple[float, float] | None] = [None] * len(words)
    for k, head in enumerate(heads):
        start = starts[head]
        group_end = heads[k + 1] if k + 1 < len(heads) else len(words)
        stop = starts[heads[k + 1]] if k + 1 < len(heads) else len(wave)
        loud = np.flatnonzero(np.abs(wave[start:stop]) > threshold)
        end = start + (int(loud[-1]) + 1 if len(loud) else stop - start)
        lengths = np.array([len(words[i][0]) for i in range(head, group_end)], float)
        edges = start + (end - start) * np.concatenate([[0.0], np.cumsum(lengths) / lengths.sum()])
        for j, i in enumerate(range(head, group_end)):
            spans[i] = (edges[j] / rate, edges[j + 1] / rate)
    return [w for w, _, _ in words], spans
