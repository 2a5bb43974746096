"""`HriEmoPreTrainedModel`: what every model shares (config, save/load, the typed output)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from safetensors.torch import save_model as save_safetensors
from torch import Tensor, nn

from hri_emo.errors import ConfigError
from hri_emo.model.config import HriEmoConfig
from hri_emo.model.heads import EmotionHeads
from hri_emo.model.inputs import check_targets
from hri_emo.model.output import HriEmoOutput
from hri_emo.model.saved_files import load_weights

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"


class HriEmoPreTrainedModel(nn.Module):
    """Base class: holds `config`, saves to / loads from a folder (safetensors + config.json).

    Subclasses set `architecture` (the name `config.architecture` selects them by) and
    `required_modalities` (modalities every item must have; empty for fusion models).
    """

    architecture: ClassVar[str] = ""
    required_modalities: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: HriEmoConfig) -> None:
        super().__init__()
        config.validate()
        if config.architecture != self.architecture:
            raise ConfigError(
                f"config {config.name!r} has architecture {config.architecture!r}, "
                f"but {type(self).__name__} is {self.architecture!r}"
            )
        self.config = config

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write model.safetensors and config.json into `directory` (created if needed)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_safetensors(self, str(directory / WEIGHTS_NAME))
        self.config.save(directory / CONFIG_NAME)
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> HriEmoPreTrainedModel:
        """Rebuild the model from `save_pretrained` output (in eval mode)."""
        config = read_config(directory)
        model = cls(config)
        load_weights(model, Path(directory) / WEIGHTS_NAME, strict=True)
        return model.eval()

    def _output(
        self,
        heads: EmotionHeads,
        logits: Tensor,
        intensity: Tensor | None,
        labels: Tensor | None,
        intensities: Tensor | None,
        **explanations: Tensor | None,
    ) -> HriEmoOutput:
        """Probabilities + loss + the explanation fields, as one HriEmoOutput."""
        return HriEmoOutput(
            logits=logits,
            probabilities=heads.probabilities(logits),
            loss=heads.loss(logits, intensity, labels, intensities),
            intensity=intensity,
            **explanations,
        )

    def _check_targets(self, labels: Tensor | None, intensities: Tensor | None, batch: int) -> None:
        check_targets(self.config, labels, intensities, batch)


def read_config(directory: str | Path) -> HriEmoConfig:
    """The HriEmoConfig saved in a model folder; clear errors for a wrong or incomplete folder."""
    directory = Path(directory)
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        if not (directory / name).is_file():
            raise FileNotFoundError(
                f"{directory} is not a saved HRI-EMO model: {name} is missing "
                "(save one with model.save_pretrained(directory))"
            )
    try:
        config = HriEmoConfig.load(directory / CONFIG_NAME)
        config.validate()
        return config
    except ConfigError as error:
        raise ConfigError(f"{directory / CONFIG_NAME}: {error}", key=error.key) from error
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise ConfigError(
            f"cannot read {directory / CONFIG_NAME} ({directory}: {CONFIG_NAME} is corrupt, "
            f"truncated or from another program): {error}"
        ) from error
