"""Checks of user-given paths that need no heavy import (no torch), so a command refuses a bad
path in well under a second: a recording (exists, a regular file, not a symbolic link loop,
starts like its format) and an output file (not a directory, the right extension, no silent
overwrite). `hri_emo.data.audio_header` builds on them for every reader of recordings."""

from __future__ import annotations

from pathlib import Path

from hri_emo.errors import AudioError, DataError

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


def not_a_file(path: Path) -> str:
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


def check_magic(path: Path) -> None:
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


def check_recording(path: str | Path) -> Path:
    """`path` if it looks like a readable recording (without decoding it), else AudioError."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(not_a_file(path))
    if path.stat().st_size == 0:
        raise AudioError(f"audio file {path} is empty (0 bytes); re-export or remove it")
    check_magic(path)
    return path


def check_output(path: str | Path, suffixes: tuple[str, ...], overwrite: bool) -> Path:
    """An output file path that may be written: not a directory, in an existing folder, with
    one of `suffixes`, and not an existing file unless `overwrite`."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"--output {path} is a directory; give a file name ({'/'.join(suffixes)})")
    if path.suffix.lower() not in suffixes:
        raise DataError(
            f"--output {path}: the extension must be {' or '.join(suffixes)} for this format"
        )
    if not path.parent.is_dir():
        raise DataError(f"--output {path}: the folder {path.parent} does not exist")
    if path.exists() and not overwrite:
        raise DataError(f"--output {path} exists; add --overwrite to replace it")
    return path
