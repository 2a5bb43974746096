"""`hri_emo.checkpoint`: a trained model folder read without training code, as training reads it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import torch

from hri_emo.checkpoint import InputSettings, read_checkpoint
from hri_emo.training.checkpoint import load_checkpoint
from hri_emo.training.config import config_to_dict, load_config


def test_the_reader_gives_what_training_reads(record_run):
    plain, typed = read_checkpoint(record_run.run_dir), load_checkpoint(record_run.run_dir)
    assert plain.directory == typed.directory and plain.emotions == typed.emotions
    assert (plain.task, plain.thresholds, plain.features) == (
        typed.task,
        typed.thresholds,
        typed.features,
    )
    np.testing.assert_array_equal(
        plain.standardizers["audio"].std, typed.standardizers["audio"].std
    )
    for (name, a), (_, b) in zip(
        plain.model.state_dict().items(), typed.model.state_dict().items()
    ):
        assert torch.equal(a, b), name
    data = typed.config.data
    assert plain.inputs == InputSettings(False, data.max_text_len, data.max_audio_len)


def test_input_settings_read_the_keys_the_schema_writes():
    keys = ["data.corpus=x.csv", "data.max_text_len=7", "data.max_audio_len=50"]
    cfg = load_config(None, [*keys, "data.reader_options.lowercase_text=true"])
    assert InputSettings.from_data(config_to_dict(cfg)["data"]) == InputSettings(True, 7, 50)
    defaults = config_to_dict(load_config(None, ["data.corpus=x.csv"]))["data"]
    assert InputSettings.from_data({}) == InputSettings.from_data(defaults)


def test_from_pretrained_loads_no_training_code(record_run):
    code = (
        "import sys; from hri_emo.inference import EmotionRecognizer; "
        f"EmotionRecognizer.from_pretrained({str(record_run.run_dir)!r}, asr='none'); "
        "print(sorted(m for m in sys.modules if m.startswith(('hri_emo.training', 'lightning'))))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"
