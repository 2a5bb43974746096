"""`hri-emo export MODEL --format onnx`: the fusion model as ONNX, checked against PyTorch."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a trained fusion model (ONNX, dynamic batch and lengths)",
        description=(
            "Writes MODEL's fusion model as ONNX (default: model.onnx in its checkpoint folder, "
            "where `--backend onnxruntime` looks for it) and compares onnxruntime against "
            "PyTorch on random inputs with padding and missing modalities."
        ),
    )
    parser.add_argument("model", help="a run folder, checkpoint folder or save_pretrained folder")
    parser.add_argument("--format", default="onnx", choices=("onnx",))
    parser.add_argument("--output", default=None, help="the .onnx file to write")
    parser.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from hri_emo.checkpoint import resolve_checkpoint
    from hri_emo.errors import ConfigError
    from hri_emo.inference.onnx_backend import ONNX_NAME, OnnxFusionModel, export_onnx, parity
    from hri_emo.model import load_model

    try:
        directory = resolve_checkpoint(args.model)
    except FileNotFoundError as err:
        raise ConfigError(str(err)) from None
    model = load_model(directory)
    target = export_onnx(model, Path(args.output) if args.output else directory / ONNX_NAME)
    diff = parity(model, OnnxFusionModel(target, model.config))
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")
    print(f"onnxruntime vs PyTorch, max |probability difference|: {diff:.2e}")
    return 0
