"""The transformers-free routes of a prediction (issue 21: start-up < 4 s): MiniLM through
`tokenizers` + its cached ONNX export, and Whisper's log-mel front end without transformers,
give the same features as the transformers encoders; a prediction then never imports it."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from hri_emo.encoders import create_text_encoder
from hri_emo.encoders.text_onnx import fast_text_encoder, minilm_onnx_path
from hri_emo.encoders.whisper_frames import WhisperLogMel
from hri_emo.errors import DataError

TEXTS = [
    "Honestly, this is the best news I have heard all year!",
    "no",
    "I can't believe it... (really?)  twice   spaced",
    "Ünïcödé café, naïve résumé — 100% sure; e-mail: a.b@c.de",
    "hello 😀 world",
    "word " * 600,  # over 512 pieces: truncated as transformers does
]


@pytest.fixture(scope="module")
def minilm_export(tmp_path_factory):
    """The MiniLM ONNX export in a fresh cache, made as `inference.onnx_text` makes it."""
    from hri_emo.inference.onnx_text import OnnxTextEncoder

    cache, before = tmp_path_factory.mktemp("cache"), os.environ.get("HRI_EMO_CACHE")
    os.environ["HRI_EMO_CACHE"] = str(cache)  # for the module's tests
    try:
        assert fast_text_encoder("minilm") is None  # nothing exported yet: transformers is used
        OnnxTextEncoder(create_text_encoder("minilm"))  # exports into the cache
        assert minilm_onnx_path().is_file()
        yield cache
    finally:
        os.environ.pop("HRI_EMO_CACHE")
        if before is not None:
            os.environ["HRI_EMO_CACHE"] = before


@pytest.mark.parametrize("pooling", ["none", "mean"])
def test_minilm_without_transformers_gives_the_same_features(minilm_export, pooling):
    fast = fast_text_encoder("minilm", pooling=pooling)
    base = create_text_encoder("minilm", pooling=pooling)
    assert fast is not None and fast.metadata == base.metadata
    for a, b in zip(base.encode(TEXTS), fast.encode(TEXTS)):  # one padded batch
        assert a.tokens == b.tokens
        assert a.features.shape == b.features.shape
        assert np.abs(a.features - b.features).max() < 1e-4
    for encoder in (base, fast):  # nothing the model knows: the same error either way
        with pytest.raises(DataError, match="has no tokens the model knows"):
            encoder.encode(["\u200b"])
    assert fast_text_encoder("minilm", layer=3) is None  # other layers: transformers
    assert fast_text_encoder("another-model") is None


@pytest.mark.parametrize("padding", ["longest", "max_length", None])
def test_whisper_log_mel_matches_transformers(padding):
    from transformers import WhisperFeatureExtractor

    rng = np.random.default_rng(0)
    pieces = [0.3 * rng.standard_normal(n).astype(np.float32) for n in (16000, 24321)]
    pieces[0] *= np.linspace(0, 1, 16000, dtype=np.float32)
    given = {} if padding is None else {"padding": padding}  # None: each one's default
    ours = WhisperLogMel(80)(pieces, **given).input_features
    theirs = WhisperFeatureExtractor(feature_size=80)(
        pieces, sampling_rate=16000, return_tensors="pt", **given
    ).input_features
    assert ours.shape == theirs.shape
    assert (ours - theirs).abs().max().item() < 1e-5


def test_the_whisper_encoder_gives_the_same_frames_either_way():
    from transformers import WhisperFeatureExtractor

    from hri_emo.encoders import create_audio_encoder
    from hri_emo.synth import synthesize

    wave = synthesize("I am so happy to see you").resampled(16000).wave
    encoder = create_audio_encoder("whisper-tiny-en")
    ours = encoder.encode([wave])[0].features
    encoder.feature_extractor = WhisperFeatureExtractor(feature_size=80)
    theirs = encoder.encode([wave])[0].features
    assert np.abs(ours - theirs).max() < 1e-4


def test_a_prediction_does_not_import_transformers(minilm_export, embedded_model_dir):
    script = (
        "import sys\n"
        "from hri_emo.inference import EmotionRecognizer\n"
        "from hri_emo.synth import synthesize\n"
        f"r = EmotionRecognizer.from_pretrained({str(embedded_model_dir)!r}, asr='none')\n"
        "wave = synthesize('I am so happy to see you').resampled(16000).wave\n"
        "result = r.classify(wave, 'I am so happy to see you')\n"
        "print(type(r.text_encoder).__name__, 'transformers' in sys.modules, result.words)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=240
    )  # fmt: skip  (HRI_EMO_CACHE: the export's cache)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[:2] == ["TokenizerOnnxTextEncoder", "False"], run.stdout


@pytest.mark.slow  # one MiniLM export (~20 s on 2 shared cores)
def test_predict_caches_the_export_once(embedded_model_dir, tmp_path, monkeypatch, capsys):
    from hri_emo.cli.main import main

    monkeypatch.setenv("HRI_EMO_CACHE", str(tmp_path / "cache"))
    argv = ["predict", str(embedded_model_dir), "--asr", "none", "--text", "I am so happy"]
    assert main(argv) == 0
    first = capsys.readouterr()
    assert f"note: cached {minilm_onnx_path()} once" in first.err and minilm_onnx_path().is_file()
    assert main(argv) == 0
    second = capsys.readouterr()
    answer = [[line for line in run.out.splitlines() if not line.startswith("time (ms)")]
              for run in (first, second)]  # fmt: skip
    assert "note: cached" not in second.err and answer[0] == answer[1]  # the same answer
