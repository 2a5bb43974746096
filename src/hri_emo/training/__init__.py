"""Training, evaluation and benchmarks: Lightning module + data module, metrics, thresholds.

    from hri_emo.training.config import load_config
    from hri_emo.training.evaluate import evaluate
    from hri_emo.training.train import train

    run_dir = train(load_config("configs/cmu_mosi.yaml", ["model.name=hriemo-v1"]))
    metrics = evaluate(run_dir, "test").metrics

The exports below are imported lazily, so `import hri_emo.training.metrics` does not load
Lightning. `train` and `evaluate` are not among them: their modules share their names.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY_EXPORTS = {
    "ExperimentConfig": "hri_emo.training.config",
    "load_config": "hri_emo.training.config",
    "save_config": "hri_emo.training.config",
    "compute_metrics": "hri_emo.training.metrics",
    "tune_thresholds": "hri_emo.training.thresholds",
    "EmotionDataModule": "hri_emo.training.datamodule",
    "EmotionLightningModule": "hri_emo.training.lightning_module",
    "load_checkpoint": "hri_emo.training.checkpoint",
    "open_run": "hri_emo.training.run",
    "Run": "hri_emo.training.run",
    "run_benchmark": "hri_emo.training.benchmark",
}
__all__ = list(_LAZY_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _LAZY_EXPORTS:
        return getattr(importlib.import_module(_LAZY_EXPORTS[name]), name)
    raise AttributeError(f"module 'hri_emo.training' has no attribute {name!r}")
