"""A cheap look at a recording before anything decodes it: does the file exist, does its header
parse as audio, does it hold any samples? Used by `data validate`, `data inspect` and extraction
(`hri_emo.encoders.audio_io`), so all three name the same files for the same reasons."""

from __future__ import annotations

from pathlib import Path

import soundfile as sf

from hri_emo.errors import AudioError
from hri_emo.paths import AUDIO_SUFFIXES, check_recording

__all__ = ["AUDIO_SUFFIXES", "header_problem", "read_header"]


def read_header(path: str | Path) -> sf._SoundFileInfo:
    """soundfile's header info of `path`; AudioError naming the file when it is missing, not a
    regular file (a directory, a symbolic link loop), unreadable (corrupt, truncated, not
    audio, a text file under an audio name) or holds 0 samples."""
    path = check_recording(path)
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        raise AudioError(
            f"cannot read {path} as audio (corrupt or not an audio file): {err}"
        ) from err
    if info.frames == 0:
        raise AudioError(f"audio file {path} is empty: 0 samples (expected a recording)")
    return info


def header_problem(path: str | Path) -> str | None:
    """Why `path` cannot be used as a recording, or None when its header is fine."""
    try:
        read_header(path)
    except AudioError as err:
        return str(err)
    return None
