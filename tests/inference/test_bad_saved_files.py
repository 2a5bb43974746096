"""Truncated or corrupt files in a checkpoint folder (issue 13): `from_pretrained` and
`hri-emo predict` name the folder and the file instead of a SafetensorError traceback."""

from __future__ import annotations

import shutil

import pytest

from hri_emo.cli.main import main
from hri_emo.errors import HriEmoError
from hri_emo.inference import EmotionRecognizer
from hri_emo.model import create_model


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _empty(path):
    path.write_bytes(b"")


@pytest.fixture
def checkpoint(record_run, tmp_path):
    """A copy of a trained checkpoint folder (with normalization.safetensors) to damage."""
    folder = tmp_path / "ckpt"
    shutil.copytree(record_run.run_dir / "checkpoints" / "best", folder)
    return folder


@pytest.mark.parametrize(
    ("name", "damage", "expected"),
    [
        ("model.safetensors", _truncate, "model.safetensors is corrupt or truncated"),
        ("model.safetensors", _empty, "model.safetensors is corrupt or truncated"),
        ("normalization.safetensors", _truncate, "normalization.safetensors is corrupt"),
        ("config.json", _truncate, "config.json is corrupt, truncated"),
        ("labels.json", _truncate, "labels.json is not valid JSON"),
        ("features.json", _empty, "features.json is not valid JSON"),
    ],
)
def test_damaged_checkpoint_file_is_named(checkpoint, name, damage, expected):
    damage(checkpoint / name)
    with pytest.raises(HriEmoError) as caught:
        EmotionRecognizer.from_pretrained(checkpoint)
    assert str(checkpoint) in str(caught.value) and expected in str(caught.value)


def test_predict_names_a_truncated_model_file(checkpoint, capsys):
    _truncate(checkpoint / "model.safetensors")
    assert main(["predict", str(checkpoint), "--text", "hello there"]) == 2
    err = capsys.readouterr().err
    assert f"error: {checkpoint}: model.safetensors is corrupt or truncated" in err
    assert "Traceback" not in err and "SafetensorError" not in err


def test_weights_of_another_model_are_named(tmp_path):
    small = create_model("hriemo-v2", text_dim=8, audio_dim=6, hidden_dim=16, num_heads=2)
    large = create_model("hriemo-v2", text_dim=8, audio_dim=6, hidden_dim=32, num_heads=2)
    large.save_pretrained(tmp_path / "mixed")
    small.config.save(tmp_path / "mixed" / "config.json")
    with pytest.raises(HriEmoError, match=r"model\.safetensors does not fit the model that config"):
        EmotionRecognizer.from_pretrained(tmp_path / "mixed")
