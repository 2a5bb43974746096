"""Shared fixtures: where the real development corpora live, and deterministic torch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """Path to ../shared/data; skips the test when the folder is absent (a user's machine)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real development data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The system Chromium (Debian's package, installed by scripts/install-browser.sh); skips
    the test with the reason when no browser can be had."""
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium on this machine (scripts/install-browser.sh installs it as root)")


@pytest.fixture(autouse=True)
def _deterministic_torch():
    torch.manual_seed(0)
    yield


TINY_VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    "i", "am", "so", "happy", "sad", "today", "the", "robot", "is", "here", "you",
    "un", "##believ", "##able", "##ably", "don", "t", "'", ",", ".", "!",
]  # fmt: skip


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    """A 2-layer, 16-d BERT with a 26-piece WordPiece vocabulary, saved offline like a hub
    model: the Hugging Face text path without a network."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny_bert")
    vocab = {piece: index for index, piece in enumerate(TINY_VOCAB)}
    BertTokenizerFast(vocab=vocab, do_lower_case=True).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(TINY_VOCAB), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=64,
    )  # fmt: skip
    BertModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def embedded_model_dir(tmp_path_factory) -> Path:
    """An untrained save_pretrained hriemo-v2 with the embedded encoders' 384-d inputs (the
    weights do not matter where only the path through the encoders is tested)."""
    from hri_emo.model import create_model

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("embedded_model") / "model"
    create_model("hriemo-v2", text_dim=384, audio_dim=384).save_pretrained(folder)
    return folder
