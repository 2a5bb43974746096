"""Errors a user can act on. Each message names the file, utterance or tensor at fault."""


class HriEmoError(ValueError):
    """Base class of every error HRI-EMO raises for bad input or configuration."""


class DataError(HriEmoError):
    """A corpus, manifest or record is malformed (missing file, NaN, unknown label, ...)."""


class AudioError(DataError):
    """An audio file cannot be used (empty, corrupt, silent, unreadable)."""


class FeatureMismatchError(HriEmoError):
    """Stored features do not match what a model or encoder expects (dimension, encoder, ...)."""


class InputShapeError(HriEmoError):
    """A tensor given to a model has the wrong shape or dimension."""


class ConfigError(HriEmoError):
    """A configuration value is unknown or invalid; `key` is its full dotted name when known
    (e.g. "data.batch_size"), so a caller can prefix it with the section it came from."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class InputTypeError(DataError, TypeError):
    """An argument of the Python API has the wrong type (a TypeError, and an HriEmoError so the
    CLI and the server report it as one line)."""
