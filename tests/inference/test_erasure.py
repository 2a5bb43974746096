"""Erasure (inference/erasure.py): each word's map value is the drop of each emotion's logit
when the word is removed from the transcript and the rest is encoded again; each frame's, the
drop when the frame (or its window) is masked out."""

from __future__ import annotations

import numpy as np
import pytest

from hri_emo.data.features import UtteranceFeatures
from hri_emo.inference.erasure import without_each_word, word_erasure


def test_each_variant_drops_one_word():
    assert without_each_word(["I", "am", "glad"]) == ["am glad", "I glad", "I am"]
    assert without_each_word(["hello"]) == [""]


def test_drops_and_word_times_of_a_bag_of_words_model():
    # A model that adds one value per word: erasing word k drops exactly that word's value,
    # and each variant keeps the other words' spans (the time prior places them as before).
    value = {"i": np.array([0.1, 0.0]), "am": np.array([0.0, 0.2]), "glad": np.array([2.0, -1.0])}
    seen_times = []

    def encode(texts):
        return [
            UtteranceFeatures(np.stack([value[w] for w in t.split()]), t.split()) if t else None
            for t in texts
        ]

    def score(features, spans):
        seen_times.extend(spans)
        return np.stack([f.features.sum(axis=0) if f else np.zeros(2) for f in features])

    times = np.array([[0.0, 0.2], [0.2, 0.4], [0.4, 0.9]])
    drops = word_erasure(["i", "am", "glad"], encode, score, times)
    assert drops.shape == (2, 3)  # (emotions, words)
    np.testing.assert_allclose(drops, np.stack([value[w] for w in ["i", "am", "glad"]]).T)
    np.testing.assert_array_equal(seen_times[0], times)
    np.testing.assert_array_equal(seen_times[3], times[:2])  # "glad" erased: its span goes


@pytest.mark.parametrize("text", ["I am so glad you came", "terrible"])
def test_the_recognizer_map_is_the_logit_drop_of_each_erased_word(embedded_model_dir, text):
    """With the real MiniLM: the erasure map equals logit(text) - logit(text without word k),
    each logit read from an independent classify() of that transcript (logit_sources add up
    to the logit)."""
    from hri_emo.inference import EmotionRecognizer

    recognizer = EmotionRecognizer.from_pretrained(embedded_model_dir, asr="none")
    result = recognizer.classify(None, text, attribution="erasure")
    if len(result.words) == 1:  # nothing would be left to run: the exact map stays, said so
        assert result.attribution_method == "contribution"
        assert any("erasure needs a second word" in note for note in result.notes)
        return
    assert result.attribution_method == "erasure"
    assert any("erasure" in note for note in result.notes)
    assert result.attribution.shape == (len(result.emotions), len(result.words))

    def logits(transcript: str) -> np.ndarray:
        other = recognizer.classify(None, transcript)
        return np.array([sum(other.logit_sources[e].values()) for e in other.emotions])

    full = logits(text)
    for k, variant in enumerate(without_each_word(result.words)):
        np.testing.assert_allclose(result.attribution[:, k], full - logits(variant), atol=1e-4)


def test_a_transcript_too_long_for_erasure_keeps_the_exact_map(embedded_model_dir):
    """Erasure's cost grows as the square of the words: past MAX_ERASURE_WORDS the exact map
    stays, and a note says why (a server request cannot buy a minute of CPU with it)."""
    from hri_emo.inference import EmotionRecognizer
    from hri_emo.inference.erasure import MAX_ERASURE_WORDS

    recognizer = EmotionRecognizer.from_pretrained(embedded_model_dir, asr="none")
    text = " ".join(["hello"] * (MAX_ERASURE_WORDS + 1))
    result = recognizer.classify(None, text, attribution="erasure")
    assert len(result.words) == MAX_ERASURE_WORDS + 1
    assert result.attribution_method == "contribution"
    assert any(f"up to {MAX_ERASURE_WORDS} words" in note for note in result.notes)
    shorter = recognizer.classify(
        None, " ".join(["hello"] * MAX_ERASURE_WORDS), attribution="erasure"
    )
    assert shorter.attribution_method == "erasure"
