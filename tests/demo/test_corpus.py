"""The demo corpus: every carrier case, the label rule, held-out voices and sentences, spans."""

from __future__ import annotations

import csv
import json
import time
from collections import Counter

import pytest
import soundfile as sf

from hri_emo.demo.corpus import CARRIERS, EMOTIONS, build_corpus, plan_corpus, synthesize_plan
from hri_emo.errors import ConfigError
from hri_emo.synth import synthesize


def test_plan_covers_every_case_with_the_documented_label_rule():
    plan = plan_corpus(seed=0)
    assert 400 <= len(plan) <= 800
    assert Counter(u.carrier for u in plan).keys() == set(CARRIERS)
    assert {u.label for u in plan} == set(EMOTIONS)
    for u in plan:
        if u.carrier == "words":
            assert u.voice_emotion == "neutral" and u.label == u.word_emotion != "neutral"
        elif u.carrier == "voice":
            assert u.word_emotion == "neutral" and u.label == u.voice_emotion != "neutral"
        elif u.carrier == "conflict":  # the voice wins
            assert "neutral" not in (u.word_emotion, u.voice_emotion)
            assert u.word_emotion != u.voice_emotion and u.label == u.voice_emotion
        else:
            assert u.label == u.word_emotion == u.voice_emotion


def test_validation_and_test_have_unheard_voices_and_sentences_and_the_plan_is_seeded():
    plan = plan_corpus(seed=0)
    splits = {s: [u for u in plan if u.split == s] for s in ("train", "valid", "test")}
    assert all(splits.values()) and sum(map(len, splits.values())) == len(plan)
    for one, other in (("train", "valid"), ("train", "test"), ("valid", "test")):
        assert not {u.voice for u in splits[one]} & {u.voice for u in splits[other]}
        assert not {u.text for u in splits[one]} & {u.text for u in splits[other]}
    assert [(u.text, u.settings) for u in plan_corpus(seed=0)] == [
        (u.text, u.settings) for u in plan
    ]
    assert [u.text for u in plan_corpus(seed=1)] != [u.text for u in plan]


def test_built_corpus_has_audio_and_a_span_for_every_word(tmp_path):
    manifest = build_corpus(tmp_path / "corpus", progress=False)
    with manifest.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(plan_corpus(seed=0))
    for row in rows[:: len(rows) // 20]:
        spans = json.loads(row["word_spans"])
        assert len(spans) == len(row["text"].split()) and all(spans)
        info = sf.info(manifest.parent / row["wav"])
        assert info.samplerate == 16000 and spans[-1][1] <= info.duration + 1e-3
    again = build_corpus(tmp_path / "corpus", progress=False)  # reused, not rebuilt
    assert again.stat().st_mtime_ns == manifest.stat().st_mtime_ns


def test_a_foreign_non_empty_folder_is_refused(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="not empty and holds no demo corpus"):
        build_corpus(tmp_path, progress=False)
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_the_speech_does_not_depend_on_what_the_process_spoke_before(tmp_path):
    """eSpeak NG carries state from one synthesis to the next, and breathy variants (en+f2) draw
    noise: the corpus is spoken by a fresh process with seeded generators, so a test session or a
    notebook builds the same corpus as `hri-emo demo`, on every machine."""
    plan = plan_corpus(seed=0)
    plan = plan[:1] + [u for u in plan if u.voice == "en+f2"][:2]
    built = []
    for name, earlier in (("a", "Hello there."), ("b", "Something else entirely, twice.")):
        synthesize(earlier, voice="en+f2")  # in this process
        time.sleep(1.1)  # unseeded, eSpeak NG's noise changed with the clock's second
        (tmp_path / name / "wav").mkdir(parents=True)
        rows = synthesize_plan(plan, tmp_path / name, progress=False)
        built.append([((tmp_path / name / r["wav"]).read_bytes(), r["word_spans"]) for r in rows])
    assert built[0] == built[1]
