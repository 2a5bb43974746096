"""Shared fixtures: where the real development corpora live, and deterministic torch."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
if os.environ.get("PYTEST_XDIST_WORKER"):  # one core per test worker (scripts/test.sh runs
    os.environ["OMP_NUM_THREADS"] = "1"  # them in parallel): threads beyond the cores only
    torch.set_num_threads(1)  # spin, and the processes the tests start inherit the setting

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


# A dialogue where only the previous turn decides: a reply's label is the category of the turn
# before it; the replies themselves carry no emotion (tests/inference/test_dialogue.py).
DIALOGUE_LABELS = ["calm", "excited"]
DIALOGUE_CUES = {
    "excited": [
        "We won the championship tonight!",
        "I just got the job, I can't believe it!",
        "Wow, the fireworks are amazing!",
        "This is the best day of my life!",
    ],
    "calm": [
        "The meeting is at three o'clock.",
        "Please pass me the salt.",
        "The library closes at six.",
        "I usually walk to work.",
    ],
}
DIALOGUE_REPLIES = ["okay", "I see", "right", "and then"]


@pytest.fixture(scope="session")
def dialogue_cues() -> dict[str, list[str]]:
    """Turns that decide the next reply's emotion (the context model's training data)."""
    return {label: list(texts) for label, texts in DIALOGUE_CUES.items()}


@pytest.fixture(scope="session")
def context_model_dir(tmp_path_factory) -> Path:
    """A save_pretrained hriemo-v2 with context_turns=2 (384-d: the embedded MiniLM), trained
    in a few seconds on MiniLM features of DIALOGUE_CUES -> DIALOGUE_REPLIES pairs: the reply's
    label is the cue's category, so only the past turn can decide it."""
    from hri_emo.data.dialogues import pool_turn
    from hri_emo.inference import EmotionRecognizer
    from hri_emo.inference.batch import pad_features
    from hri_emo.model import create_model

    torch.manual_seed(0)
    model = create_model(
        "hriemo-v2", text_dim=384, audio_dim=384, emotions=DIALOGUE_LABELS, task="singlelabel",
        hidden_dim=16, num_heads=2, ff_mult=1, context_turns=2,
    )  # fmt: skip
    encoder = EmotionRecognizer(model, asr="none")
    cues = [(text, label) for label, texts in DIALOGUE_CUES.items() for text in texts]
    texts = [text for text, _ in cues] + DIALOGUE_REPLIES
    features = dict(zip(texts, encoder.encode_texts(texts, {})))
    vectors = {text: pool_turn(stored.features) for text, stored in features.items()}
    replies, context, labels = [], [], []
    for (cue, label), (older, _) in zip(cues, cues[2:] + cues[:2]):
        for reply in DIALOGUE_REPLIES:  # one and two past turns: the newest decides
            for past in ([cue], [cue, older]):
                replies.append(features[reply])
                context.append(np.stack([vectors[t] for t in past]))
                labels.append(DIALOGUE_LABELS.index(label))
    inputs = pad_features("text", replies)
    width = max(len(c) for c in context)
    padded = torch.zeros(len(context), width, 384)
    mask = torch.zeros(len(context), width, dtype=torch.bool)
    for row, array in enumerate(context):
        padded[row, : len(array)], mask[row, : len(array)] = torch.from_numpy(array), True
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    flags = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(60):
        optimizer.zero_grad()
        same = torch.rand(mask.shape, generator=flags) < 0.5  # speakers do not decide
        out = model(
            **inputs,
            context=padded,
            context_mask=mask,
            context_same_speaker=same,
            labels=torch.tensor(labels),
        )
        out.loss.backward()
        optimizer.step()
    folder = tmp_path_factory.mktemp("context_model") / "model"
    model.eval().save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def audio_context_model_dir(tmp_path_factory) -> Path:
    """A save_pretrained hriemo-v2 on the embedded encoders (MiniLM text, Whisper tiny.en audio:
    384-d each) that reads the words and the voice of 2 past turns (context_audio), its context
    read-out's values drawn as if trained so that the past has a say."""
    from hri_emo.model import create_model

    torch.manual_seed(0)
    model = create_model(
        "hriemo-v2", text_dim=384, audio_dim=384, emotions=DIALOGUE_LABELS, task="singlelabel",
        hidden_dim=16, num_heads=2, ff_mult=1, context_turns=2, context_audio=True,
    )  # fmt: skip
    with torch.no_grad():
        model.context_readout.values.normal_()
    folder = tmp_path_factory.mktemp("audio_context_model") / "model"
    model.eval().save_pretrained(folder)
    return folder
