"""The HRI-EMO model: projections, cross-modal fusion, beta gate, emotion decoder, heads."""

from hri_emo.model.config import HriEmoConfig
from hri_emo.model.output import HriEmoOutput
from hri_emo.model.registry import create_model, list_models, load_model

__all__ = ["HriEmoConfig", "HriEmoOutput", "create_model", "list_models", "load_model"]
