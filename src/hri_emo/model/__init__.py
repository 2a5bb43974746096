"""The HRI-EMO model: projections, cross-modal fusion, beta gate, emotion decoder, heads."""

from hri_emo.model.baselines import AudioOnlyModel, EarlyFusionModel, LateFusionModel, TextOnlyModel
from hri_emo.model.config import HriEmoConfig
from hri_emo.model.hriemo import HriEmoModel
from hri_emo.model.output import HriEmoOutput
from hri_emo.model.pretrained import HriEmoPreTrainedModel
from hri_emo.model.registry import (
    build_model,
    create_model,
    get_config,
    list_models,
    load_model,
    register_architecture,
    register_preset,
)

__all__ = [
    "AudioOnlyModel",
    "EarlyFusionModel",
    "HriEmoConfig",
    "HriEmoModel",
    "HriEmoOutput",
    "HriEmoPreTrainedModel",
    "LateFusionModel",
    "TextOnlyModel",
    "build_model",
    "create_model",
    "get_config",
    "list_models",
    "load_model",
    "register_architecture",
    "register_preset",
]
