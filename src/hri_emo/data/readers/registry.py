"""The reader registry: one entry per corpus format, each with a detector for auto-detection."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hri_emo.data.records import Corpus
from hri_emo.errors import ConfigError, DataError

ReadFn = Callable[..., Corpus]


@dataclass(frozen=True)
class ReaderSpec:
    """A registered format: `read(path, **options)` and `detect(path)` (True when it fits)."""

    name: str
    read: ReadFn
    detect: Callable[[Path], bool]
    description: str

    @property
    def options(self) -> list[str]:
        """Keyword options `read` accepts (everything after the path)."""
        params = list(inspect.signature(self.read).parameters.values())[1:]
        return [p.name for p in params]


_READERS: dict[str, ReaderSpec] = {}


def file_with_suffix(suffixes: tuple[str, ...]) -> Callable[[Path], bool]:
    """A detector: True for a file whose suffix (any case) is one of `suffixes`."""
    return lambda path: path.is_file() and path.suffix.lower() in suffixes


def register_reader(
    name: str, detect: Callable[[Path], bool], description: str
) -> Callable[[ReadFn], ReadFn]:
    """Decorator adding a reader function to the registry under `name`."""

    def add(read: ReadFn) -> ReadFn:
        if name in _READERS:
            raise ValueError(f"reader {name!r} is registered twice")
        _READERS[name] = ReaderSpec(name, read, detect, description)
        return read

    return add


def list_formats() -> list[str]:
    """Names of the registered corpus formats."""
    return list(_READERS)


def get_reader(name: str) -> ReaderSpec:
    if name not in _READERS:
        raise ConfigError(f"unknown corpus format {name!r}; known formats: {list_formats()}")
    return _READERS[name]


def detect_format(path: Path) -> str:
    """The first registered format whose detector accepts `path`; DataError when none does."""
    for spec in _READERS.values():
        if spec.detect(path):
            return spec.name
    described = "; ".join(f"{s.name}: {s.description}" for s in _READERS.values())
    raise DataError(
        f"cannot tell the corpus format of {path}. Known formats: {described}. "
        f"Pass format=<name> to choose one."
    )


def read_with(spec: ReaderSpec, path: Path, options: dict[str, object]) -> Corpus:
    """Call a reader after checking that every option is one it accepts."""
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        raise ConfigError(
            f"format {spec.name!r} has no option(s) {unknown}; its options are {spec.options}"
        )
    corpus = spec.read(path, **options)
    corpus.info.setdefault("source", str(path))
    corpus.info.setdefault("format", spec.name)
    return corpus
