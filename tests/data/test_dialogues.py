"""Dialogue ids and turns: manifest columns, MELD, turn-order validation, missing turns, context."""

from __future__ import annotations

import pytest

from hri_emo.data.corpus_summary import summarize_corpus
from hri_emo.data.dialogues import check_dialogues, past_turns
from hri_emo.data.readers import read_corpus
from hri_emo.errors import ConfigError, DataError

HEADER = "id,split,text,speaker,dialogue,turn,label\n"


def write_manifest(tmp_path, rows: list[str], header: str = HEADER):
    path = tmp_path / "dialogues.csv"
    path.write_text(header + "".join(row + "\n" for row in rows))
    return path


def test_manifest_exposes_dialogue_turn_and_speaker(tmp_path):
    path = write_manifest(
        tmp_path,
        ["a0,train,hi,ann,d1,0,joy", "a1,train,hello,bob,d1,1,neutral", "b0,test,no,cy,d2,0,anger"],
    )
    corpus = read_corpus(path)
    first, second, other = corpus.records
    assert (first.dialogue, first.turn, first.speaker) == ("d1", 0, "ann")
    assert (second.dialogue, second.turn, second.speaker) == ("d1", 1, "bob")
    assert (other.dialogue, other.turn) == ("d2", 0)
    assert "dialogue" not in first.extra and "turn" not in first.extra


def test_manifest_without_dialogue_columns_has_none(tmp_path):
    path = write_manifest(tmp_path, ["a0,train,hi,joy"], header="id,split,text,label\n")
    record = read_corpus(path).records[0]
    assert record.dialogue is None and record.turn is None


def test_a_repeated_turn_names_the_dialogue(tmp_path):
    rows = [f"u{i},train,x,ann,talk7,{t},joy" for i, t in enumerate((0, 1, 1))]
    with pytest.raises(DataError, match=r"dialogue 'talk7' has turn 1 twice.*'u1' and 'u2'"):
        read_corpus(write_manifest(tmp_path, rows))


def test_the_turn_index_orders_a_dialogue_not_the_file(tmp_path):
    """Rows sorted by id (as CMU-MOSI's CSV: segment 10 before segment 2) still give each turn
    the turns before it in time."""
    rows = [f"u{t},train,x,ann,talk7,{t},joy" for t in (10, 2, 0, 5)]
    records = read_corpus(write_manifest(tmp_path, rows)).records
    past = {records[i].id: [records[j].id for j in p] for i, p in enumerate(past_turns(records, 2))}
    assert past == {"u0": [], "u2": ["u0"], "u5": ["u2", "u0"], "u10": ["u5", "u2"]}


def test_non_integer_turn_and_missing_turn_are_errors(tmp_path):
    with pytest.raises(DataError, match=r"turn '1.5'.*not an integer"):
        read_corpus(write_manifest(tmp_path, ["u0,train,x,ann,d,1.5,joy"]))
    with pytest.raises(DataError, match=r"u0.*dialogue but no turn"):
        read_corpus(write_manifest(tmp_path, ["u0,train,x,ann,d,,joy"]))


def test_missing_turns_are_reported_by_inspect(tmp_path):
    rows = ["u0,train,x,a,d1,0,joy", "u3,train,x,a,d1,3,joy", "v0,train,x,a,d2,0,joy"]
    corpus = read_corpus(write_manifest(tmp_path, rows))
    assert check_dialogues(corpus.records).missing_turns == {"d1": [1, 2]}
    summary = summarize_corpus(corpus, audio_stats=False)
    assert summary.dialogues["missing_turns"] == 2
    assert "2 missing turns in 1 dialogues (d1: [1, 2])" in summary.format()


def test_past_turns_are_causal_and_skip_other_dialogues(tmp_path):
    rows = [
        "u0,train,x,a,d1,0,joy",
        "v0,train,x,a,d2,0,joy",
        "u1,train,x,b,d1,1,joy",
        "u4,train,x,a,d1,4,joy",
        "n0,train,x,a,,,joy",
    ]
    corpus = read_corpus(write_manifest(tmp_path, rows))
    # newest first, at most k, never a later turn, never another dialogue
    assert past_turns(corpus.records, 2) == [[], [], [0], [2, 0], []]
    assert past_turns(corpus.records, 1)[3] == [2]


def test_context_without_dialogues_is_a_config_error(tmp_path):
    path = write_manifest(tmp_path, ["a0,train,hi,joy"], header="id,split,text,label\n")
    with pytest.raises(ConfigError, match="context_turns=2 needs dialogue ids"):
        past_turns(read_corpus(path).records, 2)


def test_meld_reader(shared_data):
    corpus = read_corpus(shared_data / "meld")
    assert corpus.info["format"] == "meld" and len(corpus.records) == 13708
    assert corpus.splits == ["test", "train", "valid"]
    first = corpus.records[0]
    assert (first.id, first.dialogue, first.turn, first.speaker) == (
        "train/dia0_utt0",
        "train/0",
        0,
        "Chandler",
    )
    assert first.label == "neutral" and first.extra["sentiment"] == "neutral"
    assert summarize_corpus(corpus, audio_stats=False).dialogues["dialogues"] == 1432
