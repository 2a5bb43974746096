"""A cheap look at a recording before anything decodes it: does the file exist, does its header
parse as audio, does it hold any samples? Used by `data validate`, `data inspect` and extraction
(`hri_emo.encoders.audio_io`), so all three name the same files for the same reasons."""

from __future__ import annotations

from pathlib import Path

import soundfile as sf

from hri_emo.errors import AudioError

# Audio formats read everywhere (--audio, folders, manifests, corpora): libsndfile's.
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".aiff", ".aif")
_MAGIC = {
    ".wav": (b"RIFF", b"RIFX", b"RF64"),
    ".flac": (b"fLaC", b"ID3"),
    ".ogg": (b"OggS",),
    ".opus": (b"OggS",),
    ".aiff": (b"FORM",),
    ".aif": (b"FORM",),
    ".mp3": (b"ID3",),  # or an MPEG frame sync (below)
}


def read_header(path: str | Path) -> sf._SoundFileInfo:
    """soundfile's header info of `path`; AudioError naming the file when it is missing, not a
    regular file (a directory, a symbolic link loop), unreadable (corrupt, truncated, not
    audio, a text file under an audio name) or holds 0 samples."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(_not_a_file(path))
    if path.stat().st_size == 0:
        raise AudioError(f"audio file {path} is empty (0 bytes); re-export or remove it")
    _check_magic(path)
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        raise AudioError(
            f"cannot read {path} as audio (corrupt or not an audio file): {err}"
        ) from err
    if info.frames == 0:
        raise AudioError(f"audio file {path} is empty: 0 samples (expected a recording)")
    return info


def _not_a_file(path: Path) -> str:
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except RuntimeError:
            return f"audio file {path} is a symbolic link loop"
        except OSError:
            return f"audio file {path} is a broken symbolic link (its target does not exist)"
    if path.is_dir():
        return f"audio {path} is a directory, not an audio file"
    if path.exists():
        return f"audio {path} is not a regular file (a pipe or a device?)"
    return f"audio file not found: {path}"


def _check_magic(path: Path) -> None:
    """A file named like a known format must start like one: a text file named .mp3 is
    refused here, before mpg123 prints its notes."""
    expected = _MAGIC.get(path.suffix.lower())
    if expected is None:
        return
    with path.open("rb") as handle:
        head = handle.read(16)
    mpeg_sync = path.suffix.lower() == ".mp3" and len(head) > 1 and head[0] == 0xFF
    if head.startswith(expected) or (mpeg_sync and head[1] & 0xE0 == 0xE0):
        return
    kind = path.suffix.lower()[1:].upper()
    if all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        raise AudioError(f"{path} is a text file, not {kind} audio (it starts with {head!r})")
    raise AudioError(f"{path} does not start like a {kind} file (corrupt, or another format)")


def header_problem(path: str | Path) -> str | None:
    """Why `path` cannot be used as a recording, or None when its header is fine."""
    try:
        read_header(path)
    except AudioError as err:
        return str(err)
    return None
