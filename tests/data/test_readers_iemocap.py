"""IEMOCAP reader on a folder tree written here in the release's exact layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hri_emo.data.readers import detect_format, read_corpus
from hri_emo.data.splits import leave_one_session_out
from hri_emo.data.validation import validate_corpus
from hri_emo.errors import ConfigError, DataError

HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
EVALUATORS = (
    "C-E2:\tNeutral;\t()\nC-E3:\tNeutral;\t()\nC-F1:\tNeutral;\t()\n"
    "A-E3:\tval 3; act 2; dom  2;\t()\nA-F1:\tval 3; act 2; dom  1;\t()\n\n"
)

# (turn id, consensus label, transcript) per session; times are made up but well formed.
SESSION_TURNS = {
    1: [
        ("Ses01F_impro01_F000", "neu", "Excuse me."),
        ("Ses01F_impro01_M000", "exc", "Do you have your forms?"),
        ("Ses01F_impro01_F001", "fru", "Yeah."),
        ("Ses01F_impro01_M001", "xxx", "Let me see them."),
        ("Ses01F_script01_1_F000", "hap", "Oh, how wonderful."),
        ("Ses01F_script01_1_M000", "sad", None),
    ],
    5: [
        ("Ses05M_impro03_F000", "ang", "Leave me alone!"),
        ("Ses05M_impro03_M000", "sad", "I'm sorry."),
    ],
}


def write_session(root: Path, session: int, turns: list[tuple[str, str, str | None]]) -> None:
    base = root / f"Session{session}"
    for dialog in sorted({t[0].rsplit("_", 1)[0] for t in turns}):
        own = [t for t in turns if t[0].rsplit("_", 1)[0] == dialog]
        evaluation, transcript = [HEADER], []
        for k, (turn, label, text) in enumerate(own):
            start, end = 6.2901 + 3 * k, 8.2357 + 3 * k
            evaluation.append(
                f"[{start:.4f} - {end:.4f}]\t{turn}\t{label}\t[2.5000, 3.0000, 3.5000]\n"
            )
            evaluation.append(EVALUATORS)
            if text is not None:
                transcript.append(f"{turn} [{start:08.4f}-{end:08.4f}]: {text}\n")
            wav = base / "sentences" / "wav" / dialog / f"{turn}.wav"
            wav.parent.mkdir(parents=True, exist_ok=True)
            sf.write(wav, np.zeros(1600, dtype=np.float32), 16000)
        transcript.append(f"{dialog}_MXX0 [009.0000-009.5000]: [LAUGHTER]\n")
        transcript.append("M: (not a timed line)\n")
        for folder, lines in (("EmoEvaluation", evaluation), ("transcriptions", transcript)):
            (base / "dialog" / folder).mkdir(parents=True, exist_ok=True)
            (base / "dialog" / folder / f"{dialog}.txt").write_text("".join(lines))
    (base / "dialog" / "EmoEvaluation" / "Categorical").mkdir(exist_ok=True)


@pytest.fixture
def iemocap(tmp_path) -> Path:
    root = tmp_path / "IEMOCAP_full_release"
    for session, turns in SESSION_TURNS.items():
        write_session(root, session, turns)
    return root


def test_four_class_mapping_speakers_and_session_splits(iemocap):
    assert detect_format(iemocap) == "iemocap"
    corpus = read_corpus(iemocap)
    assert corpus.emotions == ["neutral", "happy", "sad", "angry"] and corpus.task == "singlelabel"
    by_id = {r.id: r for r in corpus.records}
    assert set(by_id) == {
        "Ses01F_impro01_F000",
        "Ses01F_impro01_M000",
        "Ses01F_script01_1_F000",
        "Ses01F_script01_1_M000",
        "Ses05M_impro03_F000",
        "Ses05M_impro03_M000",
    }
    excited = by_id["Ses01F_impro01_M000"]
    assert excited.label == "happy" and excited.extra["raw_label"] == "exc"
    assert excited.speaker == "Ses01_M"  # the turn's own gender letter, not the session's "F"
    assert excited.text == "Do you have your forms?"
    assert excited.labels == {"valence": 2.5, "arousal": 3.0, "dominance": 3.5}
    assert (
        excited.wav_path
        == iemocap / "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M000.wav"
    )
    assert excited.extra["dialog"] == "Ses01F_impro01" and excited.extra["session"] == 1
    assert excited.extra["dialog_start"] == pytest.approx(9.2901)
    # dialogue = the dialog, turn = rank by start time among all its turns (left-out ones too)
    assert (excited.dialogue, excited.turn) == ("Ses01F_impro01", 1)
    assert by_id["Ses01F_impro01_F000"].turn == 0
    assert by_id["Ses05M_impro03_F000"].speaker == "Ses05_F"
    assert by_id["Ses01F_script01_1_M000"].text is None  # no transcript line: kept, text None
    assert {r.split for r in corpus.records if r.extra["session"] == 5} == {"test"}
    assert {r.split for r in corpus.records if r.extra["session"] == 1} == {"train"}
    assert corpus.info["dropped"] == {"label 'fru'": 1, "label 'xxx'": 1}
    assert corpus.info["without_transcript"] == 1
    # every wav exists and every label is known; only "angry" never occurs in training
    problems = validate_corpus(corpus, strict=False)
    assert [(p.kind, p.utterance) for p in problems] == [("unseen_label", "Ses05M_impro03_F000")]


def test_six_class_mapping_keeps_frustrated_and_excited(iemocap):
    corpus = read_corpus(iemocap, classes=6, test_session=None)
    labels = {r.id: r.label for r in corpus.records}
    assert labels["Ses01F_impro01_F001"] == "frustrated"
    assert labels["Ses01F_impro01_M000"] == "excited"
    assert corpus.info["dropped"] == {"label 'xxx'": 1}
    assert corpus.splits == ["session1", "session5"]
    folds = leave_one_session_out(corpus, test_session=1, valid_session=5)
    assert {r.split for r in folds.records if r.extra["session"] == 1} == {"test"}
    assert {r.split for r in folds.records if r.extra["session"] == 5} == {"valid"}
    assert corpus.splits == ["session1", "session5"]  # the input corpus is unchanged


def test_valid_session_and_session_subset(iemocap):
    corpus = read_corpus(iemocap, sessions=[1], test_session=None)
    assert {r.extra["session"] for r in corpus.records} == {1}
    with pytest.raises(ConfigError, match=r"test_session=5 is not among the sessions read \[1\]"):
        read_corpus(iemocap, sessions=[1])
    with pytest.raises(DataError, match=r"no Session\[3\] folder"):
        read_corpus(iemocap, sessions=[1, 3])
    with pytest.raises(ConfigError, match="classes must be 4 or 6"):
        read_corpus(iemocap, classes=5)


def test_malformed_evaluation_line_names_file_and_line(iemocap):
    path = iemocap / "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt"
    lines = path.read_text().splitlines(keepends=True)
    lines[2] = "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\n"  # the VAD triple is missing
    path.write_text("".join(lines))
    with pytest.raises(DataError, match=r"Ses01F_impro01\.txt, line 3: expected '\[start - end\]"):
        read_corpus(iemocap)
