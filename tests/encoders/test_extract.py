"""extract_features end to end into a real FeatureStore: skip report, resume, layers, segments."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hri_emo.data.features import split_layers
from hri_emo.data.records import Corpus, UtteranceRecord
from hri_emo.data.store.feature_store import FeatureStore
from hri_emo.encoders import create_audio_encoder, create_text_encoder, extract_features
from hri_emo.errors import AudioError, FeatureMismatchError


def corpus_of(records: list[UtteranceRecord]) -> Corpus:
    return Corpus("tiny", records, ["happy", "sad"], "singlelabel")


@pytest.fixture
def audio_corpus(tmp_path, voice, write_wav) -> Corpus:
    """Three good recordings (one a segment), one corrupt, one silent, one without audio."""
    good = [write_wav(tmp_path / f"good{i}.wav", voice(1.0 + i / 2, seed=i)) for i in range(2)]
    long = write_wav(tmp_path / "long.wav", voice(3.0, sr=22050, seed=5), sr=22050)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"not audio at all" * 64)
    silent = write_wav(tmp_path / "silent.wav", np.zeros(8000, dtype=np.float32))
    rec = lambda i, **kw: UtteranceRecord(id=i, corpus="tiny", split="train", **kw)  # noqa: E731
    return corpus_of(
        [
            rec("u0", wav_path=good[0]),
            rec("u1", wav_path=corrupt),
            rec("u2", wav_path=good[1]),
            rec("u3", wav_path=silent),
            rec("u4", wav_path=None, text="no recording"),
            rec("u5", wav_path=long, start=1.0, end=2.5),
        ]
    )


def test_audio_extraction_with_skip_report(audio_corpus, tmp_path):
    encoder = create_audio_encoder("logmel")
    store_path = tmp_path / "audio.h5"
    report = extract_features(
        audio_corpus, encoder, store_path, batch_size=2, on_error="skip", progress=False
    )
    assert (report.written, len(report.failed), len(report.missing)) == (3, 2, 1)
    with FeatureStore.open(store_path) as store:
        assert sorted(store.ids()) == ["u0", "u2", "u5"]
        assert store.metadata.encoder == "logmel" and store.metadata.sample_rate == 16000
        segment = store.read("u5")
        assert segment.features.shape == (148, 80)  # 1.5 s segment at 10 ms hops
        assert segment.frame_times[-1, 1] <= 1.5 + 1e-6
    saved = json.loads(report.report_path.read_text())
    assert report.report_path == tmp_path / "audio.h5.skipped.json"
    failed = {item["id"]: item["reason"] for item in saved["failed"]}
    assert set(failed) == {"u1", "u3"}
    assert "corrupt" in failed["u1"] and "silent" in failed["u3"]
    assert saved["missing"] == [{"id": "u4", "reason": "no audio"}]


def test_on_error_fail_names_the_utterance(audio_corpus, tmp_path):
    with pytest.raises(AudioError, match=r"corrupt\.wav"):
        extract_features(
            audio_corpus, create_audio_encoder("logmel"), tmp_path / "a.h5", progress=False
        )


def test_resume_skips_stored_utterances(audio_corpus, tmp_path):
    encoder = create_audio_encoder("logmel")
    store_path = tmp_path / "resume.h5"
    first = extract_features(audio_corpus, encoder, store_path, limit=1, progress=False)
    assert first.written == 1 and first.report_path is None
    with FeatureStore.open(store_path) as store:
        before = store.read("u0").features
    second = extract_features(audio_corpus, encoder, store_path, on_error="skip", progress=False)
    assert (second.already_present, second.written, len(second.failed)) == (1, 2, 2)
    with FeatureStore.open(store_path) as store:
        assert len(store) == 3
        np.testing.assert_array_equal(store.read("u0").features, before)


def test_resume_refuses_a_store_of_another_encoder(audio_corpus, tmp_path):
    store_path = tmp_path / "mixed.h5"
    extract_features(audio_corpus, create_audio_encoder("logmel"), store_path, limit=1,
                     progress=False)  # fmt: skip
    pooled = create_audio_encoder("logmel", pooling="mean")
    with pytest.raises(FeatureMismatchError, match="level 'pooled'"):
        extract_features(audio_corpus, pooled, store_path, progress=False)


def test_text_extraction_words_all_layers_and_missing_text(tiny_bert_dir, tmp_path):
    texts = {"t0": "i am so happy", "t1": "", "t2": "the robot is unbelievably sad", "t3": None}
    records = [UtteranceRecord(id=k, corpus="tiny", split="test", text=v) for k, v in texts.items()]
    encoder = create_text_encoder(str(tiny_bert_dir), layer="all")
    store_path = tmp_path / "text.h5"
    report = extract_features(corpus_of(records), encoder, store_path, progress=False)
    assert report.written == 2
    assert [m.id for m in report.missing] == ["t1", "t3"]
    assert json.loads(report.report_path.read_text())["missing"][0]["reason"] == "no text"
    with FeatureStore.open(store_path) as store:
        item = store.read("t2")
        assert item.tokens == ["the", "robot", "is", "unbelievably", "sad"]
        meta = store.metadata
        assert (meta.dim, meta.layer, meta.extra["num_layers"]) == (48, "all", 3)
        layers = split_layers(item.features, meta.extra["num_layers"])  # (L+1, T, D)
    direct = encoder.encode(["the robot is unbelievably sad"])[0].features
    np.testing.assert_allclose(layers, direct, atol=1e-5)
    assert store.get(records[1]) is None  # missing text reads as a missing modality
