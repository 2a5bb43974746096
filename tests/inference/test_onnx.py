"""`hri-emo export --format onnx` and the onnxruntime backend: parity with PyTorch over batch
sizes, lengths and missing modalities; dynamic axes; files that do not match their config."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from hri_emo.cli.main import main
from hri_emo.errors import ConfigError, FeatureMismatchError
from hri_emo.inference import EmotionRecognizer
from hri_emo.inference.onnx_backend import ONNX_NAME, OnnxFusionModel, export_onnx, parity
from hri_emo.model import create_model, load_model

TEXT_DIM, AUDIO_DIM = 24, 16


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A small hriemo-v2 (registry preset) saved and exported by the CLI."""
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("onnx") / "model"
    create_model("hriemo-v2", text_dim=TEXT_DIM, audio_dim=AUDIO_DIM, hidden_dim=32,
                 num_heads=2).save_pretrained(folder)  # fmt: skip
    assert main(["export", str(folder), "--format", "onnx"]) == 0
    return folder


def test_export_has_dynamic_axes_and_records_its_config(exported):
    graph = onnx.load(str(exported / ONNX_NAME))
    inputs = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in graph.graph.input}  # fmt: skip
    assert inputs["text"] == ["batch", "text_len", TEXT_DIM]
    assert inputs["audio_mask"] == ["batch", "audio_len"]
    # the time prior's and the word rate's inputs, so onnxruntime explains as torch does
    assert inputs["text_times"] == ["batch", "text_len", 2]
    assert inputs["audio_times"] == ["batch", "audio_len", 2]
    assert inputs["transcript_trust"] == ["batch"]
    assert [v.name for v in graph.graph.output][:3] == ["probabilities", "logits", "beta_mean"]
    assert any(p.key == "hri_emo_config" for p in graph.metadata_props)


def test_onnxruntime_matches_pytorch(exported):
    model = load_model(exported)
    runner = OnnxFusionModel(exported / ONNX_NAME, model.config)
    assert parity(model, runner) <= 1e-4  # batch 1/3/8, padding, items and batches missing one
    text = torch.randn(5, 9, TEXT_DIM)
    audio = torch.randn(5, 41, AUDIO_DIM)
    with torch.no_grad():
        expected = model(text=text, audio=audio)
    got = runner(text=text, audio=audio)
    for name in ("probabilities", "beta_mean", "alignment", "attribution", "beta"):
        diff = (getattr(expected, name) - getattr(got, name)).abs().max()
        assert diff <= 1e-4, name
    # with word and frame times (the time prior moves the alignment) and a distrusted transcript
    starts = torch.arange(9) * 0.2
    times = {
        "text_times": torch.stack([starts, starts + 0.2], -1).repeat(5, 1, 1),
        "audio_times": torch.stack(
            [torch.arange(41) * 0.05, torch.arange(41) * 0.05 + 0.05], -1
        ).repeat(5, 1, 1),
        "transcript_trust": torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0]),
    }
    with torch.no_grad():
        timed = model(text=text, audio=audio, **times)
    assert (timed.alignment - expected.alignment).abs().max() > 1e-3  # the times matter
    got = runner(text=text, audio=audio, **times)
    for name in ("probabilities", "beta_mean", "alignment", "attribution", "beta"):
        assert (getattr(timed, name) - getattr(got, name)).abs().max() <= 1e-4, name


def test_recognizer_on_onnxruntime_gives_the_torch_result(exported):
    torch_rec = EmotionRecognizer.from_pretrained(exported, asr="none")
    onnx_rec = EmotionRecognizer.from_pretrained(exported, asr="none", backend="onnxruntime")
    assert onnx_rec.backend == "onnxruntime" and torch_rec.backend == "torch"
    rng = np.random.default_rng(0)
    inputs = [
        {"text_features": rng.normal(size=(6, TEXT_DIM)), "words": list("abcdef")},
        {"audio_features": rng.normal(size=(30, AUDIO_DIM))},
        {"text_features": rng.normal(size=(3, TEXT_DIM)),
         "audio_features": rng.normal(size=(12, AUDIO_DIM))},
    ]  # fmt: skip
    for kwargs in inputs:
        a, b = torch_rec.classify_features(**kwargs), onnx_rec.classify_features(**kwargs)
        assert a.predicted == b.predicted
        assert a.probabilities == pytest.approx(b.probabilities, abs=1e-4)
        if a.alignment is not None:
            assert np.abs(a.alignment - b.alignment).max() <= 1e-4


def test_onnx_files_that_do_not_fit_are_clear_errors(exported, tmp_path):
    other = tmp_path / "other"
    create_model("hriemo-v2", text_dim=TEXT_DIM + 1, audio_dim=AUDIO_DIM).save_pretrained(other)
    export_onnx(load_model(other), tmp_path / "other.onnx")
    with pytest.raises(FeatureMismatchError, match="text_dim is 25 in the ONNX file but 24"):
        EmotionRecognizer.from_pretrained(
            exported, backend="onnxruntime", onnx_path=tmp_path / "other.onnx"
        )
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ConfigError, match=r"cannot load .*junk\.onnx as an ONNX model"):
        EmotionRecognizer.from_pretrained(
            exported, backend="onnxruntime", onnx_path=tmp_path / "junk.onnx"
        )
    with pytest.raises(ConfigError, match="run `hri-emo export MODEL --format onnx` first"):
        EmotionRecognizer.from_pretrained(other, backend="onnxruntime")
    with pytest.raises(ConfigError, match="backend 'tensorrt'"):
        EmotionRecognizer.from_pretrained(other, backend="tensorrt")


def test_the_text_encoder_on_onnxruntime_gives_the_same_features(tmp_path):
    from hri_emo.encoders import create_text_encoder
    from hri_emo.inference.onnx_text import OnnxTextEncoder

    texts = ["Honestly, this is the best news I have heard all year!", "no", "I am so happy"]
    for pooling in ("none", "mean"):
        base = create_text_encoder("minilm", pooling=pooling)
        fast = OnnxTextEncoder(base, tmp_path / "minilm.onnx")
        assert fast.metadata == base.metadata
        for a, b in zip(base.encode(texts), fast.encode(texts)):  # a padded batch of 3
            assert a.tokens == b.tokens
            assert np.abs(a.features - b.features).max() <= 1e-4
    with pytest.raises(ConfigError, match="last layer only"):
        OnnxTextEncoder(create_text_encoder("minilm", layer=3))


@pytest.mark.slow  # two exports (~25 s on 2 shared cores)
def test_the_recognizer_runs_encoders_and_fusion_on_onnxruntime(
    embedded_model_dir, tmp_path, monkeypatch, spoken
):
    import shutil

    monkeypatch.setenv("HRI_EMO_CACHE", str(tmp_path / "cache"))  # the text encoder's export
    folder = shutil.copytree(embedded_model_dir, tmp_path / "model")
    assert main(["export", str(folder)]) == 0
    wave, text = spoken[0].resampled(16000).wave, " ".join(spoken[0].words)
    eager = EmotionRecognizer.from_pretrained(folder, asr="none")
    fast = EmotionRecognizer.from_pretrained(folder, asr="none", backend="onnxruntime")
    a, b = eager.classify(wave, text), fast.classify(wave, text)
    assert type(fast.text_encoder).__name__ == "OnnxTextEncoder"
    assert any((tmp_path / "cache" / "onnx").glob("text-minilm-*.onnx"))
    assert a.words == b.words and a.predicted == b.predicted
    assert a.probabilities == pytest.approx(b.probabilities, abs=1e-4)
    assert np.abs(a.alignment - b.alignment).max() <= 1e-4
