"""The recognizer's dialogue state: past turns as the model's context, bounded at k turns.

The context model (tests/conftest.py `context_model_dir`) is trained so that a reply's emotion
is the category of the turn before it; the reply alone cannot decide it.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hri_emo.data.dialogues import pool_turn
from hri_emo.errors import ConfigError, DataError
from hri_emo.inference import EmotionRecognizer
from hri_emo.inference.batch import pad_features

REPLY = "okay"


@pytest.fixture(scope="module")
def recognizer(context_model_dir):
    return EmotionRecognizer.from_pretrained(context_model_dir, asr="none")


def test_the_previous_turn_decides_the_answer(recognizer, dialogue_cues):
    alone = recognizer.classify(None, REPLY)
    assert alone.context_turns is None and alone.context_attribution is None
    for label, cues in dialogue_cues.items():
        for cue in cues:
            dialogue = recognizer.dialogue()
            first = dialogue.classify(text=cue, speaker="user")
            assert first.utterance_id == "turn-0" and first.context_turns is None
            reply = dialogue.classify(text=REPLY, speaker="robot")
            assert reply.predicted == [label], (cue, reply.probabilities)
            assert reply.utterance_id == "turn-1" and reply.context_turns == ["turn-0"]
    # the same reply, read alone, gets one answer: it differs from one of the two above
    assert alone.probabilities != reply.probabilities


def test_past_turns_are_the_training_vectors(recognizer, dialogue_cues):
    """The dialogue feeds the model exactly pool_turn of each past turn's model-ready text."""
    cue, older = dialogue_cues["excited"][0], dialogue_cues["calm"][1]
    dialogue = recognizer.dialogue()
    for text in (older, cue):
        dialogue.classify(text=text, speaker="a")
    result = dialogue.classify(text=REPLY, speaker="a")
    stored = recognizer.encode_texts([REPLY, cue, older], {})
    context = torch.from_numpy(np.stack([pool_turn(s.features) for s in stored[1:]]))[None]
    with torch.no_grad():
        out = recognizer.model(
            **pad_features("text", stored[:1]),
            context=context,
            context_same_speaker=torch.ones(1, 2, dtype=torch.bool),
        )
    expected = out.probabilities[0].double().numpy()
    given = [result.probabilities[e] for e in result.emotions]
    np.testing.assert_allclose(given, expected, atol=1e-5)


def test_attribution_covers_each_past_turn_and_state_is_bounded(recognizer, dialogue_cues):
    dialogue = recognizer.dialogue()
    assert dialogue.max_turns == 2 == recognizer.model.config.context_turns
    texts = [*dialogue_cues["calm"][:2], REPLY, *dialogue_cues["excited"][:2]]
    for text in texts:
        result = dialogue.classify(text=text)
    assert len(dialogue) == 2 and dialogue.turns == ["turn-4", "turn-3"]
    assert result.context_turns == ["turn-3", "turn-2"]
    assert result.context_attribution.shape == (len(result.emotions), 2)
    # v2's additive read-out: the per-turn weights are the exact context part of each logit
    for row, emotion in zip(result.context_attribution, result.emotions):
        assert row.sum() == pytest.approx(result.logit_sources[emotion]["context"], abs=1e-5)
    assert [turn for turn, _ in result.context_weights("calm")] == ["turn-3", "turn-2"]
    assert result.to_dict()["context_turns"] == ["turn-3", "turn-2"]
    for wrong in (3, -1, 1.5, "2"):
        with pytest.raises(ConfigError, match=f"max_turns={wrong}: this model reads 0 to 2"):
            recognizer.dialogue(max_turns=wrong)
    shorter = recognizer.dialogue(max_turns=1)
    for text in texts:
        result = shorter.classify(text=text)
    assert shorter.turns == ["turn-4"] and result.context_turns == ["turn-3"]
    dialogue.reset()
    assert len(dialogue) == 0 and dialogue.classify(text=REPLY).context_turns is None


def test_refused_and_textless_turns(recognizer, dialogue_cues):
    from hri_emo.synth import synthesize
    from hri_emo.synth.tone import synthetic_voice

    dialogue = recognizer.dialogue()
    dialogue.classify(text=dialogue_cues["excited"][0])
    with pytest.raises(DataError, match="need a transcript, a recording, or both"):
        dialogue.classify(text="   ")
    with pytest.raises(DataError, match="holds no speech"):  # a pitch glide is not speech
        dialogue.classify(wave=synthetic_voice(1.0))
    assert dialogue.turns == ["turn-0"]  # a refused turn changes nothing
    speech = synthesize("see you later").resampled(16000).wave
    heard = dialogue.classify(wave=speech)  # no ASR: no usable transcript
    assert heard.context_turns == ["turn-0"]
    assert any("gives later turns no context" in note for note in heard.notes)
    # it keeps its place in the window of k (as in training) but gives no vector
    assert dialogue.classify(text=REPLY).context_turns == ["turn-0"]
    assert dialogue.classify(text=REPLY).context_turns == ["turn-2"]  # turn-1 fell out


def test_a_model_without_context_answers_each_turn_alone(embedded_model_dir):
    recognizer = EmotionRecognizer.from_pretrained(embedded_model_dir, asr="none")
    dialogue = recognizer.dialogue()
    assert not dialogue.uses_context
    for text in ("hello there", REPLY):
        result = dialogue.classify(text=text)
        assert result.context_turns is None
        assert any("trained without conversation context" in note for note in result.notes)
    assert len(dialogue) == 0
    alone = recognizer.classify(None, REPLY)
    assert alone.probabilities == result.probabilities
    with pytest.raises(ConfigError, match="max_turns=2: this model reads 0 to 0 past turns"):
        recognizer.dialogue(max_turns=2)
