"""A dialogue with a model that reads the audio of past turns (data.context_audio): each turn's
pooled audio, encoded by the recognizer's real audio encoder, is what the next turn reads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hri_emo.data.dialogues import pool_turn
from hri_emo.inference import EmotionRecognizer
from hri_emo.inference.batch import pad_features
from hri_emo.synth import synthesize


@pytest.fixture(scope="module")
def recognizer(audio_context_model_dir):
    return EmotionRecognizer.from_pretrained(audio_context_model_dir, asr="none")


@pytest.fixture(scope="module")
def speech():
    return {
        text: synthesize(text).resampled(16000).wave
        for text in ("we won the final", "we lost everything")
    }


def test_the_next_turn_reads_the_voice_of_the_past_one(recognizer, speech):
    said, wave = "we won the final", speech["we won the final"]
    dialogue = recognizer.dialogue()
    dialogue.classify(wave=wave, text=said, speaker="user")
    result = dialogue.classify(text="okay", speaker="user")
    assert result.context_turns == ["turn-0"]
    assert dialogue.nbytes == 3 * 384 * 4  # turn 0: text and audio vectors; turn 1: text
    # exactly what training gives the model: pool_turn of the past turn's model-ready features
    text_in = recognizer.encode_texts(["okay", said], {})
    audio_in = recognizer.encode_waves([wave], {})[0]
    with torch.no_grad():
        out = recognizer.model(
            **pad_features("text", text_in[:1]),
            context=torch.from_numpy(pool_turn(text_in[1].features))[None, None],
            context_same_speaker=torch.ones(1, 1, dtype=torch.bool),
            context_audio=torch.from_numpy(pool_turn(audio_in.features))[None, None],
            context_audio_mask=torch.ones(1, 1, dtype=torch.bool),
        )
    expected = out.probabilities[0].double().numpy()
    given = [result.probabilities[e] for e in result.emotions]
    np.testing.assert_allclose(given, expected, atol=1e-5)
    for row, emotion in zip(result.context_attribution, result.emotions):
        assert row.sum() == pytest.approx(result.logit_sources[emotion]["context"], abs=1e-5)


def test_the_same_words_in_another_voice_change_the_next_answer(recognizer, speech):
    said = "we won the final"
    answers = []
    for wave in (speech[said], speech["we lost everything"], None):
        dialogue = recognizer.dialogue()
        dialogue.classify(wave=wave, text=said)
        answers.append(dialogue.classify(text="okay").probabilities)
    voiced, other_voice, unvoiced = answers
    assert voiced != other_voice and voiced != unvoiced
    # a past turn without a recording is read from its words alone (its audio masked)
    dialogue = recognizer.dialogue()
    dialogue.classify(text=said)
    assert dialogue.nbytes == 384 * 4


def test_given_audio_features_are_the_voice_of_a_turn(recognizer, speech):
    """A robot that computes its own features (a model trained on functionals) passes them per
    turn: the next turn reads them as it would the encoder's."""
    said, wave = "we won the final", speech["we won the final"]
    features = recognizer.encode_waves([wave], {})[0].features  # as the encoder gives them
    answers = []
    for turn in ({"wave": wave}, {"audio_features": features}):
        dialogue = recognizer.dialogue()
        dialogue.classify(text=said, **turn)
        answers.append(dialogue.classify(text="okay").probabilities)
    assert answers[0] == pytest.approx(answers[1], abs=1e-5)


def test_a_turn_heard_but_not_transcribed_is_read_from_its_voice(recognizer, speech):
    """A laugh or a sigh (no transcript, ASR off): the next turn reads the voice of that turn
    alone, exactly as the model reads a past turn whose text is masked."""
    wave = speech["we lost everything"]
    dialogue = recognizer.dialogue()
    heard = dialogue.classify(wave=wave, speaker="user")
    assert any("read this turn from its voice" in note for note in heard.notes)
    result = dialogue.classify(text="okay", speaker="user")
    assert result.context_turns == ["turn-0"]
    text_in = recognizer.encode_texts(["okay"], {})
    audio_in = recognizer.encode_waves([wave], {})[0]
    with torch.no_grad():
        out = recognizer.model(
            **pad_features("text", text_in),
            context=torch.randn(1, 1, 384),  # masked: never read
            context_same_speaker=torch.ones(1, 1, dtype=torch.bool),
            context_audio=torch.from_numpy(pool_turn(audio_in.features))[None, None],
            context_audio_mask=torch.ones(1, 1, dtype=torch.bool),
            context_text_mask=torch.zeros(1, 1, dtype=torch.bool),
        )
    given = [result.probabilities[e] for e in result.emotions]
    np.testing.assert_allclose(given, out.probabilities[0].double().numpy(), atol=1e-5)
    alone = recognizer.dialogue()
    assert alone.classify(text="okay", speaker="user").probabilities != result.probabilities
