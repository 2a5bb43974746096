"""Reading the files of a saved model or checkpoint folder with errors that name the folder and
the file: a truncated or corrupt safetensors file, weights that do not fit config.json, or a
JSON file that does not parse is a `DataError`, never a raw SafetensorError / RuntimeError;
files of one folder that disagree with each other are a `ConfigError` (`check_files_agree`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from safetensors import SafetensorError
from torch import nn

from hri_emo.errors import ConfigError, DataError

T = TypeVar("T")
FIX = "re-save the model, copy the folder again, or retrain"


def _where(path: Path) -> str:
    return f"{path.parent}: {path.name}"


def read_safetensors(path: str | Path, load: Callable[[str], T]) -> T:
    """`load(str(path))` (safetensors' load_file of any framework) with a clear error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{_where(path)} is missing")
    try:
        return load(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise DataError(f"{_where(path)} is corrupt or truncated ({err}); {FIX}") from err


def load_weights(module: nn.Module, path: str | Path, strict: bool = True) -> None:
    """Load a safetensors file into `module`; DataError when it is corrupt or does not fit."""
    from safetensors.torch import load_model

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{_where(path)} is missing")
    try:
        load_model(module, str(path), strict=strict)
    except (SafetensorError, OSError) as err:
        raise DataError(f"{_where(path)} is corrupt or truncated ({err}); {FIX}") from err
    except RuntimeError as err:  # missing / unexpected keys, shape mismatches
        detail = " ".join(str(err).split())[:400]
        if "context_readout." in detail:
            raise DataError(
                f"{_where(path)} was saved by a context model from before the context read-out "
                "(past turns in the decoder, HRI-EMO before 6 December 2026); retrain it with "
                "data.context_turns"
            ) from err
        raise DataError(
            f"{_where(path)} does not fit the model that config.json describes "
            f"({type(module).__name__}): {detail}; the two files come from different models"
        ) from err


def load_state_dict(module: nn.Module, path: str | Path) -> None:
    """`module.load_state_dict` from a safetensors file, with clear errors (see load_weights)."""
    from safetensors.torch import load_file

    path = Path(path)
    state = read_safetensors(path, load_file)
    try:
        module.load_state_dict(state)
    except RuntimeError as err:
        detail = " ".join(str(err).split())[:400]
        raise DataError(f"{_where(path)} does not fit {type(module).__name__}: {detail}") from err


def read_json(path: str | Path) -> Any:
    """A JSON file of a model folder; FileNotFoundError when absent, DataError when corrupt."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file missing: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise DataError(f"{_where(path)} is not valid JSON (corrupt or truncated?): {err}") from err


def check_files_agree(
    directory: str | Path,
    config: Any,
    labels: Any,
    thresholds: Any = None,
    features: Any = None,
    finetuned_text: bool = False,
) -> None:
    """ConfigError naming both files when the files of a checkpoint folder disagree on a field
    they share: labels.json vs config.json (task, emotions and their order), thresholds.json
    (one per emotion), features.json (feature dimensions)."""
    where = Path(directory)
    if not isinstance(labels, dict) or not isinstance(labels.get("emotions"), list):
        raise ConfigError(f"{where / 'labels.json'}: expected an object with a list 'emotions'")
    pairs = [
        ("task", labels.get("task"), config.task),
        ("emotions", list(labels["emotions"]), list(config.emotions)),
    ]
    for name, in_labels, in_config in pairs:
        if in_labels != in_config:
            raise ConfigError(
                f"{where}: labels.json and config.json disagree on {name} ({in_labels!r} vs "
                f"{in_config!r}); the files come from different models: {FIX}"
            )
    if thresholds is not None and (
        not isinstance(thresholds, list) or len(thresholds) != len(config.emotions)
    ):
        raise ConfigError(
            f"{where / 'thresholds.json'}: expected one threshold per emotion "
            f"({len(config.emotions)}), got {thresholds!r:.80}"
        )
    for modality, entry in (features or {}).items():
        if modality not in ("text", "audio") or not isinstance(entry, dict):
            continue
        if modality == "text" and finetuned_text:
            continue
        dim, expected = entry.get("dim"), getattr(config, f"{modality}_dim")
        if dim is not None and dim != expected:
            raise ConfigError(
                f"{where}: features.json says the {modality} features are {dim}-d, config.json "
                f"says {modality}_dim={expected}; the files come from different models: {FIX}"
            )
