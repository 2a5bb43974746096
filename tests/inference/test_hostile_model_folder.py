"""A model folder whose files disagree with each other, or whose config.json has values of the
wrong type, is refused at load with one line naming the folder, the files and the field
(issue 21, item 8) — through the Python API and `hri-emo predict`."""

from __future__ import annotations

import json
import shutil

import pytest

from hri_emo.cli.main import main
from hri_emo.errors import ConfigError
from hri_emo.inference import EmotionRecognizer
from hri_emo.model import create_model, load_model


@pytest.fixture
def checkpoint(record_run, tmp_path):
    folder = tmp_path / "ckpt"
    shutil.copytree(record_run.run_dir / "checkpoints" / "best", folder)
    return folder


def _edit(path, **changes):
    values = json.loads(path.read_text())
    values.update(changes)
    path.write_text(json.dumps(values))


def test_reordered_emotions_are_refused(checkpoint, capsys):
    config = json.loads((checkpoint / "config.json").read_text())
    _edit(checkpoint / "config.json", emotions=list(reversed(config["emotions"])))
    with pytest.raises(ConfigError, match=r"labels\.json and config\.json disagree on emotions"):
        EmotionRecognizer.from_pretrained(checkpoint)
    assert main(["predict", str(checkpoint), "--text", "hello there"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "disagree on emotions" in err and str(checkpoint) in err


def test_task_and_thresholds_and_dims_must_agree(checkpoint):
    labels = json.loads((checkpoint / "labels.json").read_text())
    _edit(checkpoint / "labels.json", task="singlelabel" if labels["task"] != "singlelabel"
          else "multilabel")  # fmt: skip
    with pytest.raises(ConfigError, match="disagree on task"):
        EmotionRecognizer.from_pretrained(checkpoint)
    (checkpoint / "labels.json").write_text(json.dumps(labels))
    (checkpoint / "thresholds.json").write_text(json.dumps({"thresholds": [0.5]}))
    with pytest.raises(ConfigError, match="one threshold per emotion"):
        EmotionRecognizer.from_pretrained(checkpoint)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("hidden_dim", "sixty-four", "hidden_dim must be an integer, got 'sixty-four'"),
        ("text_dim", "384", "text_dim must be an integer, got '384'"),
        ("dropout", "0.1", "dropout must be a number"),
        ("positional", 1, "positional must be true or false"),
        ("emotions", "happy,sad", "emotions must be a list of emotion names"),
        ("hidden_dim", 0, "hidden_dim must be >= 1"),
    ],
)
def test_config_values_of_the_wrong_type(tmp_path, field, value, expected):
    folder = create_model("hriemo-v2", text_dim=8, audio_dim=6).save_pretrained(tmp_path / "m")
    _edit(folder / "config.json", **{field: value})
    with pytest.raises(ConfigError) as caught:
        load_model(folder)
    message = str(caught.value)
    assert expected in message and str(folder / "config.json") in message
    assert "\n" not in message
