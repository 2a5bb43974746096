"""The fusion model as ONNX: export (torch dynamo exporter + onnxscript) and an onnxruntime runner.

The graph takes both modalities with masks, all four axes dynamic:
text (B, Lt, Dt) float, text_mask (B, Lt) bool, audio (B, La, Da) float, audio_mask (B, La) bool.
A missing modality is one zero position with a False mask, which the model treats exactly like
`None` (docs/architecture.md). A model that reads times and transcript trust (hriemo: the time
prior, the word rate) also takes text_times (B, Lt, 2) and audio_times (B, La, 2) seconds (NaN:
unknown, exactly like `None`) and transcript_trust (B,) (1: trusted, exactly like `None`).
Outputs are the HriEmoOutput fields the model produces
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
TIMED_INPUTS = ("text_times", "audio_times", "transcript_trust")  # models with accepts_times
OUTPUTS = ("probabilities", "logits", "beta_mean", "beta", "alignment", "attribution")
META_KEY = "hri_emo_config"


class _ExportWrapper(nn.Module):
    """Positional tensors-in (the graph's inputs, in order), tuple-out view of a model (what the
    exporter traces)."""

    def __init__(self, model: nn.Module, inputs: tuple[str, ...], outputs: tuple[str, ...]):
        super().__init__()
        self.model, self.inputs, self.outputs = model, inputs, outputs

    def forward(self, *tensors: Tensor):
        out = self.model(**dict(zip(self.inputs, tensors, strict=True)))
        return tuple(getattr(out, name) for name in self.outputs)


def graph_inputs(model: nn.Module) -> tuple[str, ...]:
    """The inputs the exported graph of `model` takes."""
    timed = getattr(model, "accepts_times", False) and getattr(
        model, "accepts_transcript_trust", False
    )
    return INPUTS + (TIMED_INPUTS if timed else ())


def example_inputs(config: Any, batch: int = 2, text_len: int = 5, audio_len: int = 12):
    """Random inputs of the right dimensions (masks all True)."""
    generator = torch.Generator().manual_seed(0)
    return (
        torch.randn(batch, text_len, config.text_dim, generator=generator),
        torch.ones(batch, text_len, dtype=torch.bool),
        torch.randn(batch, audio_len, config.audio_dim, generator=generator),
        torch.ones(batch, audio_len, dtype=torch.bool),
    )


def example_times(batch: int, text_len: int, audio_len: int) -> tuple[Tensor, Tensor, Tensor]:
    """Word and frame times in seconds (the last word's unknown: NaN) and full transcript trust."""
    starts = torch.arange(text_len, dtype=torch.float32) * 0.3
    text_times = torch.stack([starts, starts + 0.25], dim=-1).repeat(batch, 1, 1)
    text_times[:, -1] = float("nan")
    frames = torch.arange(audio_len, dtype=torch.float32) * 0.02
    audio_times = torch.stack([frames, frames + 0.02], dim=-1).repeat(batch, 1, 1)
    return text_times, audio_times, torch.ones(batch)


def export_onnx(model: nn.Module, path: str | Path) -> Path:
    """Write `model` (eval mode, CPU) as ONNX with dynamic batch and sequence axes."""
    import onnx
    from torch.export import Dim

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval().cpu()
    inputs = graph_inputs(model)
    args = (*example_inputs(model.config), *example_times(2, 5, 12))[: len(inputs)]
    with torch.no_grad():
        sample = model(**dict(zip(inputs, args, strict=True)))
    outputs = tuple(name for name in OUTPUTS if getattr(sample, name) is not None)
    batch, text_len = Dim("batch", min=1, max=4096), Dim("text_len", min=1, max=8192)
    audio_len = Dim("audio_len", min=1, max=1_000_000)
    shapes = {
        "text": {0: batch, 1: text_len},
        "text_mask": {0: batch, 1: text_len},
        "audio": {0: batch, 1: audio_len},
        "audio_mask": {0: batch, 1: audio_len},
        "text_times": {0: batch, 1: text_len},
        "audio_times": {0: batch, 1: audio_len},
        "transcript_trust": {0: batch},
    }
    shapes = (tuple(shapes[name] for name in inputs),)  # the wrapper's one *tensors argument
    quiet = [logging.getLogger(name) for name in ("onnxscript", "onnx_ir")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*axis name.*")
            torch.onnx.export(
                _ExportWrapper(model, inputs, outputs).eval(),
                args,
                str(path),
                dynamo=True,
                dynamic_shapes=shapes,
                input_names=list(inputs),
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
        self.inputs = [i.name for i in self.session.get_inputs()]
        self._check_signature()
        # what the recognizer may pass: times and transcript trust where the graph takes them
        # (a file exported before they were inputs runs without them, as it always did)
        self.accepts_times = self.accepts_transcript_trust = "text_times" in self.inputs

    def _check_signature(self) -> None:
        meta = self.session.get_modelmeta().custom_metadata_map.get(META_KEY)
        names = self.inputs
        known = names in (list(INPUTS), list(INPUTS + TIMED_INPUTS))
        if meta is None or not known or "probabilities" not in self.outputs:
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
        text_times: Tensor | None = None,
        audio_times: Tensor | None = None,
        transcript_trust: Tensor | None = None,
    ) -> HriEmoOutput:
        """The torch model's keywords; times and trust only reach a graph that takes them
        (unknown times are NaN, no trust given is 1: what the torch model does with None)."""
        batch = (text if text is not None else audio).shape[0]
        feed = {}
        for name, x, mask, times, dim in (
            ("text", text, text_mask, text_times, self.config.text_dim),
            ("audio", audio, audio_mask, audio_times, self.config.audio_dim),
        ):
            if x is None:  # missing for the whole batch: one masked-out position
                x = torch.zeros(batch, 1, dim)
                mask = torch.zeros(batch, 1, dtype=torch.bool)
                times = None
            elif mask is None:
                mask = torch.ones(x.shape[:2], dtype=torch.bool)
            feed[name] = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
            feed[f"{name}_mask"] = np.ascontiguousarray(mask.cpu().numpy(), dtype=bool)
            if self.accepts_times:
                times = torch.full((*x.shape[:2], 2), float("nan")) if times is None else times
                feed[f"{name}_times"] = np.ascontiguousarray(times.cpu().numpy(), np.float32)
        if self.accepts_transcript_trust:
            trust = torch.ones(batch) if transcript_trust is None else transcript_trust
            feed["transcript_trust"] = np.ascontiguousarray(trust.cpu().numpy(), np.float32)
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
        text_times, audio_times, _ = example_times(batch, text_len, audio_len)
        distrusted = torch.arange(batch, dtype=torch.float32) % 2  # every other transcript
        both = {"text": text, "text_mask": both_text, "audio": audio, "audio_mask": both_audio}
        cases = [
            both,
            {"audio": audio, "audio_mask": audio_mask},  # no text in the whole batch
            {"text": text, "text_mask": text_mask},  # no audio in the whole batch
        ]
        if runner.accepts_times:  # word and frame times (one unknown), and distrust
            timed = {"text_times": text_times, "audio_times": audio_times}
            cases += [{**both, **timed}, {**both, **timed, "transcript_trust": distrusted}]
        for kwargs in cases:
            expected = model(**kwargs).probabilities
            got = runner(**kwargs).probabilities
            worst = max(worst, float((expected - got).abs().max()))
    return worst
