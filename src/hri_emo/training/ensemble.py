"""`hri-emo ensemble`: trained runs of one recipe on one corpus (e.g. seeds) as one model.

`build_ensemble(runs, output)` checks that the runs can be averaged (same labels, same
features and standardisation, same data section: only the seed may differ), writes
`<output>/checkpoints/best/` as a checkpoint folder whose model is an `EnsembleModel`
(model/ensemble.py), and tunes its decision thresholds and records its validation metrics as
training does for one run. Every command that takes a run folder then takes the ensemble.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hri_emo.errors import ConfigError
from hri_emo.model.ensemble import EnsembleModel
from hri_emo.training.checkpoint import (
    TrainedCheckpoint,
    checkpoint_dir,
    load_checkpoint,
    save_checkpoint,
)
from hri_emo.training.evaluate import finalize_thresholds
from hri_emo.training.run import open_run


def build_ensemble(runs: Sequence[str | Path], output: str | Path) -> Path:
    """The checkpoint folder of the runs' ensemble (`<output>/checkpoints/best`)."""
    if len(runs) < 2:
        raise ConfigError(f"an ensemble needs at least 2 runs, got {len(runs)}")
    members = [load_checkpoint(run) for run in runs]
    for member in members[1:]:
        check_members_agree(members[0], member)
    first = members[0]
    directory = checkpoint_dir(output)
    if directory.exists():
        raise ConfigError(f"{directory} exists: choose another --output or remove it")
    model = EnsembleModel([member.model for member in members])
    sources = [str(member.directory) for member in members]
    seeds = [member.config.train.seed for member in members]
    save_checkpoint(
        directory,
        model,
        first.config,
        first.features,
        first.standardizers,
        metrics={"ensemble_of": sources, "seeds": seeds},
        unseen_labels=first.unseen_labels,
    )
    datamodule = open_run(directory).datamodule()
    try:
        finalize_thresholds(directory, datamodule, first.config.train)
    finally:
        datamodule.close()
    (Path(output) / "ensemble_members.json").write_text(
        json.dumps({"members": sources, "seeds": seeds}, indent=2) + "\n"
    )
    return directory


def check_members_agree(first: TrainedCheckpoint, other: TrainedCheckpoint) -> None:
    """ConfigError naming what differs between two runs that cannot be averaged."""
    where = f"{other.directory} and {first.directory}"
    for run in (first, other):
        if run.text_encoder is not None:
            raise ConfigError(
                f"{run.directory} fine-tuned its own text encoder: an ensemble shares one "
                "text encoder, so its members must use frozen text features"
            )
    if (other.task, other.emotions) != (first.task, first.emotions):
        raise ConfigError(f"{where} predict different labels: {other.emotions} / {first.emotions}")
    if other.features != first.features:
        raise ConfigError(f"{where} were trained on different features (features.json)")
    if other.config.data != first.config.data:
        raise ConfigError(
            f"{where} were trained on different data settings (experiment.yaml `data`): "
            "only the seed may differ between an ensemble's members"
        )
    if other.standardizers.keys() != first.standardizers.keys() or any(
        not np.array_equal(other.standardizers[m].mean, first.standardizers[m].mean)
        or not np.array_equal(other.standardizers[m].std, first.standardizers[m].std)
        for m in first.standardizers
    ):
        raise ConfigError(f"{where} standardise their features differently")
