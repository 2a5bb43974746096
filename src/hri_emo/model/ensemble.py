"""`EnsembleModel`: several trained models of one recipe (e.g. seeds) answering as one.

The members see the same inputs; the ensemble's logits are the mean of theirs, and its
probabilities come from those logits through the members' own head (sigmoid or softmax), so
every explanation stays exact: each member's exact parts of a logit (words, frames, context,
bias) sum to its logit, so their means sum to the ensemble's. Beta, alignment and attention
maps are the members' means too. Averaging seeds removes the part of a single run's answer
that is the seed's luck (docs/training.md, "Seed ensembles").

A saved ensemble is a folder with `ensemble.json` and one `save_pretrained` folder per member
under `members/` (`load_model` reads it like any model folder).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from hri_emo.errors import ConfigError
from hri_emo.model.heads import EmotionHeads
from hri_emo.model.output import HriEmoOutput

ENSEMBLE_FILE = "ensemble.json"
MEMBERS_DIR = "members"
# what every member must share for their answers to be averaged
SHARED_CONFIG = (
    "task",
    "emotions",
    "text_dim",
    "audio_dim",
    "architecture",
    "time_prior_s",
    "context_turns",
    "context_audio",
)
# read from the members (all equal) by training, inference and export
SHARED_ATTRIBUTES = (
    "accepts_times",
    "accepts_transcript_trust",
    "accepts_audio_snr",
    "required_modalities",
    "modality",
)
AVERAGED = tuple(
    f.name for f in fields(HriEmoOutput) if f.name not in ("logits", "probabilities", "loss")
)


class EnsembleModel(nn.Module):
    """The mean of `members`' logits and maps; `config` is the first member's."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if len(members) < 2:
            raise ConfigError(f"an ensemble needs at least 2 models, got {len(members)}")
        if any(isinstance(m, EnsembleModel) for m in members):
            raise ConfigError("an ensemble's members must be single models, not ensembles")
        first = members[0].config
        for index, member in enumerate(members[1:], start=1):
            for key in SHARED_CONFIG:
                if getattr(member.config, key) != getattr(first, key):
                    raise ConfigError(
                        f"ensemble member {index} has {key} {getattr(member.config, key)!r}, "
                        f"member 0 {getattr(first, key)!r}: members must be the same model "
                        "trained on the same data (e.g. other seeds)"
                    )
        self.members = nn.ModuleList(members)
        self.config = first
        for name in SHARED_ATTRIBUTES:
            if hasattr(members[0], name):
                setattr(self, name, getattr(members[0], name))

    @property
    def size(self) -> int:
        return len(self.members)

    def forward(
        self, labels: Tensor | None = None, intensities: Tensor | None = None, **inputs: Any
    ) -> HriEmoOutput:
        outputs = [member(**inputs) for member in self.members]
        logits = torch.stack([out.logits for out in outputs]).mean(0)
        heads = next(m for m in self.members[0].modules() if isinstance(m, EmotionHeads))
        averaged = {name: _mean([getattr(out, name) for out in outputs]) for name in AVERAGED}
        averaged["fused_mask"] = outputs[0].fused_mask
        return HriEmoOutput(
            logits=logits,
            probabilities=heads.probabilities(logits),
            loss=None
            if labels is None
            else heads.loss(logits, averaged["intensity"], labels, intensities),
            **averaged,
        )

    def save_pretrained(self, directory: str | Path) -> Path:
        """`members/<k>/` (each member's save_pretrained) and ensemble.json."""
        directory = Path(directory)
        names = []
        for index, member in enumerate(self.members):
            names.append(f"{MEMBERS_DIR}/{index}")
            member.save_pretrained(directory / names[-1])
        record = {"members": names, "combine": "mean of logits and maps"}
        (directory / ENSEMBLE_FILE).write_text(json.dumps(record, indent=2) + "\n")
        return directory

    @classmethod
    def from_pretrained(
        cls, directory: str | Path, load: Callable[[Path], nn.Module]
    ) -> EnsembleModel:
        """Read a saved ensemble; `load` reads one member folder (`registry.load_model`)."""
        directory = Path(directory)
        try:
            record = json.loads((directory / ENSEMBLE_FILE).read_text())
            names = list(record["members"])
        except (ValueError, KeyError, TypeError) as err:
            raise ConfigError(
                f"{directory / ENSEMBLE_FILE} is not an ensemble record: {err}"
            ) from None
        inside = directory.resolve()
        for name in names:  # a member must live inside the ensemble's folder
            if not isinstance(name, str) or inside not in (directory / name).resolve().parents:
                raise ConfigError(f"{directory / ENSEMBLE_FILE}: member {name!r} is not a "
                                  f"folder inside {directory}")  # fmt: skip
        return cls([load(directory / name) for name in names]).eval()


def is_ensemble_folder(directory: str | Path) -> bool:
    return (Path(directory) / ENSEMBLE_FILE).is_file()


def _mean(values: list[Tensor | None]) -> Tensor | None:
    """The members' mean of one output field (None when any member gives none)."""
    if any(v is None for v in values):
        return None
    return torch.stack([v.float() for v in values]).mean(0).to(values[0].dtype)
