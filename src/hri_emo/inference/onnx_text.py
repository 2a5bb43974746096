"""A frozen Hugging Face text encoder (last layer) whose transformer runs on onnxruntime.

Tokenisation, the grouping of sub-word pieces into words and pooling stay those of
`HFTextEncoder`; only the transformer call changes, so the features are the same (tested to
1e-4). The transformer is exported once (torch dynamo exporter, dynamic batch and length) into
the hri_emo cache ($HRI_EMO_CACHE, else ~/.cache/hri_emo) under its name and revision; for the
embedded MiniLM that export also lets `encoders.text_onnx` run it without transformers
(`export_minilm_once`, called by `hri-emo predict`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hri_emo.encoders.text_hf import HFTextEncoder
from hri_emo.encoders.text_onnx import onnx_path, ort_session
from hri_emo.errors import ConfigError

log = logging.getLogger(__name__)


class _LastHidden(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        kwargs = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        return self.model(input_ids, attention_mask, **kwargs).last_hidden_state


class OnnxTextEncoder(HFTextEncoder):
    """`HFTextEncoder` (layer "last") with the transformer on onnxruntime."""

    def __init__(
        self, base: HFTextEncoder, path: str | Path | None = None, threads: int | None = None
    ) -> None:
        if base.layer != "last":
            raise ConfigError(
                f"text encoder {base.name!r} layer {base.layer!r}: onnxruntime runs the last "
                "layer only; use backend='torch' for other layers"
            )
        vars(self).update(vars(base))
        self.names = [n for n in ("input_ids", "attention_mask", "token_type_ids")
                      if n in base.tokenizer.model_input_names]  # fmt: skip
        self.path = Path(path) if path else default_path(base)
        if not self.path.is_file():
            export_text_model(base, self.names, self.path)
        self.session = ort_session(self.path, threads)

    def hidden_states(self, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        feed = {n: np.ascontiguousarray(inputs[n].cpu().numpy()) for n in self.names}
        return (torch.from_numpy(self.session.run(None, feed)[0]),)


def default_path(encoder: HFTextEncoder) -> Path:
    return onnx_path(encoder.name, encoder.revision)


def export_text_model(encoder: HFTextEncoder, names: list[str], path: Path) -> Path:
    """Export the encoder's transformer (last hidden state) with dynamic batch and length."""
    from torch.export import Dim

    example = encoder.tokenizer(
        ["an example sentence for the export", "short"], padding=True, return_tensors="pt"
    )
    batch, pieces = Dim("batch", min=1, max=4096), Dim("pieces", min=2, max=encoder.max_length)
    for noisy in ("onnx_ir", "onnxscript", "torch.onnx"):  # their INFO lines, and warnings
        logging.getLogger(noisy).setLevel(logging.ERROR)  # about torchvision, under the CLI
    partial = path.with_name(f"{path.stem}.tmp{os.getpid()}.onnx")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _LastHidden(encoder.model).eval(),
                (),
                str(partial),
                kwargs={n: example[n] for n in names},
                dynamo=True,
                dynamic_shapes={n: {0: batch, 1: pieces} for n in names},
                input_names=names,
                output_names=["last_hidden_state"],
                optimize=True,
            )
        _self_contained(partial).replace(path)
    except Exception as err:
        for leftover in path.parent.glob(f"{partial.name}*"):  # the file and its weights
            leftover.unlink(missing_ok=True)
        raise ConfigError(f"ONNX export of text encoder {encoder.name!r} failed: {err}") from err
    return path


def _self_contained(partial: Path) -> Path:
    """`partial` with its weights inside (the exporter may write them to `NAME.data` beside
    it, which a rename would orphan): one file, renamed into the cache as a whole."""
    import onnx

    model = onnx.load(str(partial))  # reads the external weights too
    onnx.save_model(model, str(partial), save_as_external_data=False)
    partial.with_name(partial.name + ".data").unlink(missing_ok=True)
    return partial


def onnx_text_encoder(encoder: Any) -> Any:
    """The frozen text encoder on onnxruntime where it can run there (a Hugging Face encoder,
    last layer), else unchanged."""
    if type(encoder) is HFTextEncoder and encoder.layer == "last":
        return OnnxTextEncoder(encoder)
    return encoder


def export_minilm_once(recognizer: Any) -> Path | None:
    """When `recognizer` encoded text with the embedded MiniLM through transformers, export it
    to ONNX into the cache (once), so that later runs take `encoders.text_onnx`'s route without
    importing transformers. Returns the file written, or None (nothing to do, or it failed:
    the next run simply uses transformers again)."""
    from hri_emo.encoders.text_onnx import minilm_onnx_path

    encoder = getattr(recognizer, "_encoders", {}).get("text")
    if type(encoder) is not HFTextEncoder or encoder.name != "minilm" or encoder.layer != "last":
        return None
    path = minilm_onnx_path()
    if path.is_file():
        return None
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids")
             if n in encoder.tokenizer.model_input_names]  # fmt: skip
    try:
        return export_text_model(encoder, names, path)
    except (ConfigError, OSError) as err:
        log.warning("could not cache the MiniLM ONNX export (%s); transformers is used", err)
        return None
