"""What a feature store holds and how it sits inside an HDF5 file.

Layout of every store file (the main file and each journal shard)::

    /                          attributes: format, format_version, hri_emo_version, store_uuid,
                               journal_seq, storage_dtype and the FeatureMetadata fields
    /index/ids                 (N,) UTF-8 strings: utterance ids in write order
    /utterances/<escaped id>   group, attribute "id" = the original utterance id
        features               (T, D) sequence or (D,) pooled, float32 (or float16 storage)
        tokens                 (T,) UTF-8 strings, optional
        frame_times            (T, 2) float64 start/end seconds, optional

Utterance ids are percent-encoded into HDF5 names (see `escape_id`) because ids such as
"Ses01F_impro01/F000" or "vid[3]" contain characters HDF5 treats as path syntax.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import quote, unquote

import h5py
import numpy as np

from hri_emo import __version__
from hri_emo.data.features import UtteranceFeatures
from hri_emo.errors import ConfigError, DataError, FeatureMismatchError

FORMAT_NAME = "hri-emo-feature-store"
FORMAT_VERSION = 1
STORAGE_DTYPES = ("float32", "float16")
MODALITIES = ("text", "audio", "vision")
LEVELS = ("sequence", "pooled")
_STR = h5py.string_dtype("utf-8")


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class FeatureMetadata:
    """Which encoder produced a store's features, and their shape conventions.

    `level` "sequence" stores (T, D) per utterance (tokens or frames), "pooled" stores (D,).
    `extra` is any JSON-serialisable dict (pooling, window, normalisation, ...).
    """

    encoder: str
    revision: str
    modality: Literal["text", "audio", "vision"]
    level: Literal["sequence", "pooled"]
    dim: int
    layer: str = "last"
    sample_rate: int | None = None
    created: str = field(default_factory=_now_iso)
    extra: dict[str, Any] = field(default_factory=dict)
    hri_emo_version: str = __version__
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.modality not in MODALITIES:
            raise ConfigError(
                f"FeatureMetadata.modality must be one of {MODALITIES}, got {self.modality!r}"
            )
        if self.level not in LEVELS:
            raise ConfigError(f"FeatureMetadata.level must be one of {LEVELS}, got {self.level!r}")
        if int(self.dim) <= 0:
            raise ConfigError(f"FeatureMetadata.dim must be a positive integer, got {self.dim!r}")
        self.dim = int(self.dim)
        try:
            json.dumps(self.extra)
        except TypeError as err:
            raise ConfigError(f"FeatureMetadata.extra must be JSON-serialisable: {err}") from err

    def write_attrs(self, attrs: h5py.AttributeManager) -> None:
        """Store each field as an HDF5 attribute (`extra` as JSON; a None sample_rate omitted)."""
        for name, value in asdict(self).items():
            if name == "extra":
                attrs[name] = json.dumps(value, sort_keys=True)
            elif value is not None:
                attrs[name] = value

    @classmethod
    def read_attrs(cls, attrs: h5py.AttributeManager) -> FeatureMetadata:
        values = {f.name: attrs[f.name] for f in fields(cls) if f.name in attrs}
        values["extra"] = json.loads(values.get("extra", "{}"))
        for name in ("dim", "sample_rate", "format_version"):
            if name in values:
                values[name] = int(values[name])
        return cls(**{k: (v.item() if isinstance(v, np.generic) else v) for k, v in values.items()})

    def describe(self) -> str:
        """One line naming the encoder, for error messages."""
        return (
            f"{self.modality} {self.level} features, dim {self.dim}, from encoder {self.encoder!r}"
        )


def escape_id(utt_id: str) -> str:
    """Percent-encode an utterance id into a valid, reversible HDF5 link name.

    Everything but letters, digits and "_.-~" is encoded ("/" -> "%2F", "[" -> "%5B"); a leading
    "." is encoded too so that "." and ".." never appear as names.
    """
    name = quote(utt_id, safe="")
    return "%2E" + name[1:] if name.startswith(".") else name


def unescape_id(name: str) -> str:
    return unquote(name)


def validate_utterance(
    utt_id: object,
    features: object,
    tokens: list[str] | None,
    frame_times: object | None,
    metadata: FeatureMetadata,
    source: str,
) -> UtteranceFeatures:
    """Check one utterance against the store's metadata and return it in canonical dtypes.

    Raises DataError (bad id, shape, NaN/Inf, token count, frame times) or FeatureMismatchError
    (feature dimension differs from `metadata.dim`); every message names `utt_id` and `source`.
    """
    if not isinstance(utt_id, str) or not utt_id:
        raise DataError(f"{source}: utterance id must be a non-empty string, got {utt_id!r}")
    where = f"{source}: utterance {utt_id!r}"
    array = np.asarray(features)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise DataError(f"{where}: features must be a real numeric array, got dtype {array.dtype}")
    expected_ndim = 2 if metadata.level == "sequence" else 1
    if array.ndim != expected_ndim:
        shape = "(T, D)" if expected_ndim == 2 else "(D,)"
        raise DataError(
            f"{where}: {metadata.level} features must be {shape}, got shape {array.shape}"
        )
    if array.shape[-1] != metadata.dim:
        raise FeatureMismatchError(
            f"{where}: features have dim {array.shape[-1]}, store expects {metadata.describe()}"
        )
    if array.ndim == 2 and array.shape[0] == 0:
        raise DataError(f"{where}: features are an empty sequence (T = 0)")
    array = np.array(array, dtype=np.float32)  # a private copy: later caller edits cannot leak in
    if not np.isfinite(array).all():
        raise DataError(f"{where}: features contain {_count_nonfinite(array)} NaN/Inf values")
    length = 1 if array.ndim == 1 else array.shape[0]
    return UtteranceFeatures(
        array,
        _check_tokens(where, tokens, length, metadata),
        _check_frame_times(where, frame_times, length),
    )


def _count_nonfinite(array: np.ndarray) -> int:
    return int((~np.isfinite(array)).sum())


def _check_tokens(
    where: str, tokens: list[str] | None, length: int, metadata: FeatureMetadata
) -> list[str] | None:
    if tokens is None:
        return None
    if isinstance(tokens, str) or not all(isinstance(t, str) for t in tokens):
        raise DataError(f"{where}: tokens must be a list of strings, got {type(tokens).__name__}")
    tokens = list(tokens)
    if metadata.modality == "text" and metadata.level == "sequence" and len(tokens) != length:
        raise DataError(
            f"{where}: {len(tokens)} tokens for {length} feature positions "
            "(sequence text features need exactly one token per position)"
        )
    return tokens


def _check_frame_times(where: str, frame_times: object | None, length: int) -> np.ndarray | None:
    if frame_times is None:
        return None
    times = np.asarray(frame_times, dtype=np.float64)
    if times.shape != (length, 2):
        raise DataError(f"{where}: frame_times must have shape ({length}, 2), got {times.shape}")
    unknown = np.isnan(times).all(axis=1)  # a position without a time (an untimed word)
    if not np.isfinite(times[~unknown]).all():
        raise DataError(f"{where}: frame_times contain Inf, or NaN in only one of start/end")
    if (times[:, 1] < times[:, 0]).any():
        raise DataError(f"{where}: frame_times has a frame whose end is before its start")
    return times


def init_layout(file: h5py.File) -> None:
    """Create the empty /utterances group and /index/ids dataset."""
    file.create_group("utterances")
    file.create_group("index").create_dataset(
        "ids", shape=(0,), maxshape=(None,), dtype=_STR, chunks=(4096,)
    )


def read_index(file: h5py.File) -> list[str]:
    return file["index/ids"].asstr()[()].tolist()


def append_index(file: h5py.File, new_ids: list[str]) -> None:
    if not new_ids:
        return
    index = file["index/ids"]
    start = index.shape[0]
    index.resize((start + len(new_ids),))
    index[start:] = np.array(new_ids, dtype=object)


def write_utterance(
    file: h5py.File, utt_id: str, stored: UtteranceFeatures, storage_dtype: str
) -> None:
    """Write one validated utterance group (replacing an existing one); does not touch the index."""
    utterances = file["utterances"]
    name = escape_id(utt_id)
    if name in utterances:
        del utterances[name]
    group = utterances.create_group(name)
    group.attrs["id"] = utt_id
    group.create_dataset("features", data=stored.features.astype(storage_dtype, copy=False))
    if stored.tokens is not None:
        group.create_dataset("tokens", data=np.array(stored.tokens, dtype=object), dtype=_STR)
    if stored.frame_times is not None:
        group.create_dataset("frame_times", data=stored.frame_times)


def read_utterance(group: h5py.Group) -> UtteranceFeatures:
    """Read one utterance group back as float32 features (whatever the storage dtype)."""
    features = group["features"][()].astype(np.float32, copy=False)
    tokens = group["tokens"].asstr()[()].tolist() if "tokens" in group else None
    frame_times = group["frame_times"][()] if "frame_times" in group else None
    return UtteranceFeatures(features, tokens, frame_times)


def check_format(file: h5py.File, path: object) -> None:
    """Raise DataError unless `file` is a feature store this version can read."""
    if file.attrs.get("format") != FORMAT_NAME:
        raise DataError(
            f"{path} is not an HRI-EMO feature store (no format={FORMAT_NAME!r} attribute)"
        )
    version = int(file.attrs.get("format_version", -1))
    if version > FORMAT_VERSION:
        raise DataError(
            f"{path} has feature-store format version {version}; this hri_emo reads up to "
            f"{FORMAT_VERSION} — upgrade hri_emo"
        )
