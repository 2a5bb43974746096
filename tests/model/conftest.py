"""Tiny configs and random padded batches for the model tests (seconds, not minutes)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from hri_emo.model import create_model
from hri_emo.model.registry import get_config

TEXT_DIM, AUDIO_DIM = 12, 10
EMOTIONS = ["happy", "sad", "anger", "fear"]
TINY = {
    "text_dim": TEXT_DIM,
    "audio_dim": AUDIO_DIM,
    "emotions": EMOTIONS,
    "hidden_dim": 16,
    "num_heads": 2,
    "num_decoder_layers": 1,
}


def _stacked(name: str) -> dict[str, int]:
    """Two fusion layers where the preset allows it (v2 without audio residual has exactly one)."""
    return {"num_fusion_layers": 2} if get_config(name).audio_residual else {}


def tiny_model(name: str = "hriemo-v1", **overrides) -> torch.nn.Module:
    """A registry model at test size; extra overrides win over the tiny defaults."""
    return create_model(name, **{**TINY, **overrides})


def random_inputs(
    batch: int = 4,
    text_len: int = 6,
    audio_len: int = 9,
    task: str = "multilabel",
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """Padded text/audio with varied lengths (item 0 full, the others shorter) and labels."""
    generator = torch.Generator().manual_seed(seed)
    text = torch.randn(batch, text_len, TEXT_DIM, generator=generator)
    audio = torch.randn(batch, audio_len, AUDIO_DIM, generator=generator)
    text_lengths = [max(1, text_len - i) for i in range(batch)]
    audio_lengths = [max(1, audio_len - 2 * i) for i in range(batch)]
    text_mask = torch.arange(text_len)[None, :] < torch.tensor(text_lengths)[:, None]
    audio_mask = torch.arange(audio_len)[None, :] < torch.tensor(audio_lengths)[:, None]
    if task == "multilabel":
        labels = (torch.rand(batch, len(EMOTIONS), generator=generator) > 0.5).float()
    else:
        labels = torch.randint(0, len(EMOTIONS), (batch,), generator=generator)
    return {
        "text": text,
        "text_mask": text_mask,
        "audio": audio,
        "audio_mask": audio_mask,
        "labels": labels,
    }


def pad_with_garbage(features: torch.Tensor, mask: torch.Tensor, extra: int) -> tuple:
    """Append `extra` padded positions holding huge and random values (mask False)."""
    batch, _, dim = features.shape
    garbage = 1e6 * torch.randn(batch, extra, dim)
    garbage[:, ::2] = 3e4
    padded = torch.cat([features, garbage], dim=1)
    padded_mask = torch.cat([mask, torch.zeros(batch, extra, dtype=torch.bool)], dim=1)
    # Existing padding gets garbage too.
    padded = torch.where(padded_mask[..., None], padded, -7e5 * torch.ones_like(padded))
    return padded, padded_mask


@pytest.fixture(autouse=True)
def _single_thread():
    """Tiny tensors gain nothing from intra-op threads, and on a busy machine OpenMP threads
    waiting for each other make these tests 10x slower; restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def make_model() -> Callable[..., torch.nn.Module]:
    return tiny_model


@pytest.fixture
def make_inputs() -> Callable[..., dict[str, torch.Tensor]]:
    return random_inputs


@pytest.fixture
def pad_garbage() -> Callable[..., tuple]:
    return pad_with_garbage


@pytest.fixture
def stacked() -> Callable[[str], dict[str, int]]:
    return _stacked
