"""Read a recording (or a segment of it) as float32 mono 16 kHz samples, with clear errors.

Outcomes for bad audio (each names the file):
- missing file, unreadable / not audio, zero samples, NaN or infinite samples -> `AudioError`;
- silent (every sample exactly zero) -> `AudioError` too: a digitally silent clip is a broken
  recording, not an emotion; `hri-emo extract --on-error skip` lists it in the skip report;
- the same rules hold for a waveform array given to `EmotionRecognizer.classify` (checked by
  `check_waveform`), so a file and its samples are accepted or refused alike; an array must
  also be 1-D float samples (not int16 PCM, not (N, channels));
- stereo / multi-channel -> averaged to mono; any sample rate -> resampled to 16 kHz (soxr);
- a segment whose `end` runs past the file is cut at the end of the file (logged), one that starts
  at or after the end, or has end <= start, is an `AudioError`.

Long files are read block by block and resampled as a stream, so memory stays at the size of the
16 kHz mono output (10 minutes = 38 MB) whatever the input rate or channel count.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from hri_emo.data.audio_header import read_header
from hri_emo.errors import AudioError

TARGET_SAMPLE_RATE = 16_000
BLOCK_SECONDS = 30.0
logger = logging.getLogger(__name__)


def load_audio(
    path: str | Path, start: float | None = None, end: float | None = None
) -> np.ndarray:
    """Samples of `path` between `start` and `end` seconds: (N,) float32, mono, 16 kHz."""
    path = Path(path)
    info = read_header(path)
    first, last = _segment_frames(path, info, start, end)
    wave = _read_mono_16k(path, info.samplerate, first, last)
    _check_samples(path, wave, start, end)
    return wave


def _segment_frames(
    path: Path, info: sf._SoundFileInfo, start: float | None, end: float | None
) -> tuple[int, int]:
    """First and last (exclusive) sample index of the segment at the file's own rate."""
    duration = info.frames / info.samplerate
    start_s = 0.0 if start is None else float(start)
    end_s = duration if end is None else float(end)
    if start_s < 0 or end_s <= start_s:
        raise AudioError(
            f"bad segment of {path}: start={start} end={end} s (expected 0 <= start < end)"
        )
    if start_s >= duration:
        raise AudioError(
            f"segment of {path} starts at {start_s:.3f} s but the file lasts {duration:.3f} s"
        )
    if end_s > duration + 1e-3:
        logger.info("segment end %.3f s of %s cut to the file's end %.3f s", end_s, path, duration)
        end_s = duration
    return round(start_s * info.samplerate), min(info.frames, round(end_s * info.samplerate))


def _read_mono_16k(path: Path, sample_rate: int, first: int, last: int) -> np.ndarray:
    """Read [first, last) block by block, down-mix each block and resample it as a stream."""
    block = int(BLOCK_SECONDS * sample_rate)
    resampler = None
    if sample_rate != TARGET_SAMPLE_RATE:
        resampler = soxr.ResampleStream(sample_rate, TARGET_SAMPLE_RATE, 1, dtype="float32")
    pieces: list[np.ndarray] = []
    source_peak = 0.0
    try:
        with sf.SoundFile(str(path)) as handle:
            handle.seek(first)
            remaining = last - first
            while remaining > 0:
                frames = handle.read(min(block, remaining), dtype="float32", always_2d=True)
                if len(frames) == 0:
                    break
                remaining -= len(frames)
                mono = frames.mean(axis=1, dtype=np.float32)  # (n,)
                source_peak = max(source_peak, float(np.abs(mono).max(initial=0.0)))
                if resampler is not None:
                    mono = resampler.resample_chunk(mono, last=remaining <= 0)
                pieces.append(mono)
    except (sf.LibsndfileError, RuntimeError) as err:
        raise AudioError(f"cannot decode {path} (corrupt audio data): {err}") from err
    if not pieces:
        return np.zeros(0, dtype=np.float32)
    wave = np.concatenate(pieces)
    if resampler is not None and source_peak <= 1.0:
        # a full-scale recording overshoots [-1, 1] a little when resampled (EmoDB 08a04Wc:
        # 1.0007); that is the resampler's ringing, not the file's data, so it is clipped
        wave = np.clip(wave, -1.0, 1.0)
    return np.ascontiguousarray(wave, dtype=np.float32)


def _check_samples(path: Path, wave: np.ndarray, start: float | None, end: float | None) -> None:
    where = "" if start is None and end is None else f" (segment {start}-{end} s)"
    check_waveform(wave, f"audio file {path}{where}")


def check_waveform(wave: object, what: str = "the waveform") -> np.ndarray:
    """`wave` as contiguous float32 (N,) samples; AudioError naming `what` when it is not 1-D
    float audio, or is empty, holds NaN/Inf, or is silent (every sample exactly zero)."""
    array = np.asarray(wave)
    if array.dtype.kind not in "f":
        hint = " (int16 PCM: divide by 32768)" if array.dtype.kind in "iu" else ""
        raise AudioError(f"{what} has {array.dtype} samples; expected float samples{hint}")
    if array.ndim != 1:
        raise AudioError(
            f"{what} has shape {array.shape}; expected mono samples (N,) at 16 kHz "
            "(average the channels of multi-channel audio)"
        )
    if array.size == 0:
        raise AudioError(f"{what} is empty: 0 samples (expected a recording)")
    if not np.isfinite(array).all():
        raise AudioError(f"{what} contains NaN or infinite samples")
    if not np.any(array):
        raise AudioError(
            f"{what} is silent: all {array.size} samples are zero (expected a recording with sound)"
        )
    return np.ascontiguousarray(array, dtype=np.float32)
