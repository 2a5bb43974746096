"""The fusion model as ONNX: export (torch dynamo exporter + onnxscript) and an onnxruntime runner.

The graph takes both modalities with masks, all four axes dynamic:
text (B, Lt, Dt) float, text_mask (B, Lt) bool, audio (B, La, Da) float, audio_mask (B, La) bool.
A missing modality is one zero position with a False mask, which the model treats exactly like
`None` (docs/architecture.md). Outputs are the HriEmoOutput fields the model produces
(probabilities, logits, beta_mean, beta, alignment, attribution). The config's dimensions and
emotions are stored in the file's metadata and checked when it is loaded.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from hri_emo.encoders.text_onnx import ort_session
from hri_emo.errors import ConfigError, FeatureMismatchError
from hri_emo.model.output import HriEmoOutput

log = logging.getLogger(__name__)
ONNX_NAME = "model.onnx"
INPUTS = ("text", "text_mask", "audio", "audio_mask")
OUTPUTS = ("probabilities", "logits", "beta_mean", "beta", "alignment", "attribution")
META_KEY = "hri_emo_config"


class _ExportWrapper(nn.Module):
    """Positional masks-in, tuple-out view of a model (what the exporter traces)."""

    def __init__(self, model: nn.Module, outputs: tuple[str, ...]) -> None:
        super().__init__()
        self.model, self.outputs = model, outputs

    def forward(self, text: Tensor, text_mask: Tensor, audio: Tensor, audio_mask: Tensor):
        out = self.model(text=text, text_mask=text_mask, audio=audio, audio_mask=audio_mask)
        return tuple(getattr(out, name) for name in self.outputs)


def example_inputs(config: Any, batch: int = 2, text_len: int = 5, audio_len: int = 12):
    """Random inputs of the right dimensions (masks all True)."""
    generator = torch.Generator().manual_seed(0)
    return (
        torch.randn(batch, text_len, config.text_dim, generator=generator),
        torch.ones(batch, text_len, dtype=torch.bool),
        torch.randn(batch, audio_len, config.audio_dim, generator=generator),
        torch.ones(batch, audio_len, dtype=torch.bool),
    )


def export_onnx(model: nn.Module, path: str | Path) -> Path:
    """Write `model` (eval mode, CPU) as ONNX with dynamic batch and sequence axes."""
    import onnx
    from torch.export import Dim

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval().cpu()
    args = example_inputs(model.config)
    with torch.no_grad():
        sample = model(text=args[0], text_mask=args[1], audio=args[2], audio_mask=args[3])
    outputs = tuple(name for name in OUTPUTS if getattr(sample, name) is not None)
    batch, text_len = Dim("batch", min=1, max=4096), Dim("text_len", min=1, max=8192)
    audio_len = Dim("audio_len", min=1, max=1_000_000)
    shapes = {
        "text": {0: batch, 1: text_len},
        "text_mask": {0: batch, 1: text_len},
        "audio": {0: batch, 1: audio_len},
        "audio_mask": {0: batch, 1: audio_len},
    }
    quiet = [logging.getLogger(name) for name in ("onnxscript", "onnx_ir")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*axis name.*")
            torch.onnx.export(
                _ExportWrapper(model, outputs).eval(),
                args,
                str(path),
                dynamo=True,
                dynamic_shapes=shapes,
                input_names=list(INPUTS),
                output_names=list(outputs),
                optimize=True,
                verbose=False,
            )
    except Exception as err:
        raise ConfigError(f"ONNX export of {model.config.name!r} failed: {err}") from err
    finally:
        for logger, level in zip(quiet, levels):
            logger.setLevel(level)
    graph = onnx.load(str(path))
    _check_dynamic_batch(graph, path)
    entry = graph.metadata_props.add()
    entry.key, entry.value = META_KEY, json.dumps(_signature(model.config))
    onnx.save(graph, str(path))
    return path


def _check_dynamic_batch(graph: Any, path: Path) -> None:
    for value in graph.graph.input:
        first = value.type.tensor_type.shape.dim[0]
        if not first.dim_param:
            raise ConfigError(f"{path}: the exported batch axis of {value.name!r} is fixed")


def _signature(config: Any) -> dict[str, Any]:
    return {
        "name": config.name,
        "text_dim": int(config.text_dim),
        "audio_dim": int(config.audio_dim),
        "emotions": list(config.emotions),
        "task": config.task,
    }


class OnnxFusionModel:
    """Runs an exported fusion model on onnxruntime; called like the torch model."""

    def __init__(self, path: str | Path, config: Any, threads: int | None = None) -> None:
        self.path, self.config = Path(path), config
        if not self.path.is_file():
            raise ConfigError(
                f"no ONNX model at {self.path}: run `hri-emo export MODEL --format onnx` first"
            )
        self.session = ort_session(self.path, threads)
        self.outputs = [o.name for o in self.session.get_outputs()]
        self._check_signature()

    def _check_signature(self) -> None:
        meta = self.session.get_modelmeta().custom_metadata_map.get(META_KEY)
        names = [i.name for i in self.session.get_inputs()]
        if meta is None or names != list(INPUTS) or "probabilities" not in self.outputs:
            raise ConfigError(
                f"{self.path} is not an HRI-EMO fusion model export (inputs {names}); export "
                "it with `hri-emo export MODEL --format onnx`"
            )
        stored, expected = json.loads(meta), _signature(self.config)
        for key in ("text_dim", "audio_dim", "emotions", "task"):
            if stored.get(key) != expected[key]:
                raise FeatureMismatchError(
                    f"{self.path} does not match the model's config.json: {key} is "
                    f"{stored.get(key)!r} in the ONNX file but {expected[key]!r} in the config; "
                    "export the model again"
                )

    def eval(self) -> OnnxFusionModel:
        return self

    def __call__(
        self,
        text: Tensor | None = None,
        text_mask: Tensor | None = None,
        audio: Tensor | None = None,
        audio_mask: Tensor | None = None,
    ) -> HriEmoOutput:
        batch = (text if text is not None else audio).shape[0]
        feed = {}
        for name, x, mask, dim in (
            ("text", text, text_mask, self.config.text_dim),
            ("audio", audio, audio_mask, self.config.audio_dim),
        ):
            if x is None:  # missing for the whole batch: one masked-out position
                x = torch.zeros(batch, 1, dim)
                mask = torch.zeros(batch, 1, dtype=torch.bool)
            elif mask is None:
                mask = torch.ones(x.shape[:2], dtype=torch.bool)
            feed[name] = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
            feed[f"{name}_mask"] = np.ascontiguousarray(mask.cpu().numpy(), dtype=bool)
        values = self.session.run(None, feed)
        fields = {name: torch.from_numpy(value) for name, value in zip(self.outputs, values)}
        return HriEmoOutput(**fields)


PARITY_CASES = ((1, 1, 1), (3, 7, 50), (8, 23, 160))  # (batch, text length, audio length)


@torch.no_grad()
def parity(model: nn.Module, runner: OnnxFusionModel, seed: int = 0) -> float:
    """Max |probability difference| of `runner` against `model` over several batch sizes and
    lengths, with padded items, items missing a modality and batches missing one."""
    generator = torch.Generator().manual_seed(seed)
    worst = 0.0
    for batch, text_len, audio_len in PARITY_CASES:
        text, _, audio, _ = example_inputs(model.config, batch, text_len, audio_len)
        text_mask = torch.rand(batch, text_len, generator=generator) > 0.3
        audio_mask = torch.rand(batch, audio_len, generator=generator) > 0.3
        text_mask[:, 0] = audio_mask[:, 0] = True  # padded items, each with both modalities
        both_text, both_audio = text_mask.clone(), audio_mask.clone()
        if batch > 1:  # one item without text, one without audio
            both_text[0], both_audio[-1] = False, False
        for kwargs in (
            {"text": text, "text_mask": both_text, "audio": audio, "audio_mask": both_audio},
            {"audio": audio, "audio_mask": audio_mask},  # no text in the whole batch
            {"text": text, "text_mask": text_mask},  # no audio in the whole batch
        ):
            expected = model(**kwargs).probabilities
            got = runner(**kwargs).probabilities
            worst = max(worst, float((expected - got).abs().max()))
    return worst
