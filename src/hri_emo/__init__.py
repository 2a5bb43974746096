"""HRI-EMO: explainable audio-text emotion recognition with adaptive cross-modal fusion."""

from hri_emo.model import HriEmoConfig, HriEmoOutput, create_model, list_models, load_model

__version__ = "0.1.0"
__all__ = ["HriEmoConfig", "HriEmoOutput", "__version__", "create_model", "list_models", "load_model"]
