"""MELD (Poria et al., 2019) as released: `{train,dev,test}_sent_emo.csv` in one folder.

Text only: each row is one utterance with its speaker, emotion (7 classes) and sentiment.
A dialogue is (split, Dialogue_ID) and its turn is Utterance_ID; "dev" becomes split "valid".
Ids are `<split>/dia<D>_utt<U>`; the sentiment is kept in `record.extra["sentiment"]`.
"""

from __future__ import annotations

import csv
from pathlib import Path

from hri_emo.data.dialogues import group_dialogues
from hri_emo.data.readers.registry import register_reader
from hri_emo.data.records import Corpus, UtteranceRecord
from hri_emo.errors import DataError

EMOTIONS = ["neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear"]
FILES = {"train": "train_sent_emo.csv", "valid": "dev_sent_emo.csv", "test": "test_sent_emo.csv"}
COLUMNS = ("Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID")


def _is_meld(path: Path) -> bool:
    return path.is_dir() and all((path / name).is_file() for name in FILES.values())


def _read_split(path: Path, split: str) -> list[UtteranceRecord]:
    records = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{path}: MELD columns {missing} missing (header {reader.fieldnames})")
        for row in reader:
            where = f"{path}, line {reader.line_num}"
            try:
                dialogue, turn = int(row["Dialogue_ID"]), int(row["Utterance_ID"])
            except ValueError as err:
                raise DataError(f"{where}: Dialogue_ID/Utterance_ID must be integers") from err
            if row["Emotion"] not in EMOTIONS:
                raise DataError(f"{where}: unknown emotion {row['Emotion']!r}; MELD has {EMOTIONS}")
            records.append(
                UtteranceRecord(
                    id=f"{split}/dia{dialogue}_utt{turn}",
                    corpus="meld",
                    split=split,
                    text=row["Utterance"].strip() or None,
                    speaker=row["Speaker"] or None,
                    label=row["Emotion"],
                    dialogue=f"{split}/{dialogue}",
                    turn=turn,
                    extra={"sentiment": row["Sentiment"]},
                )
            )
    return records


@register_reader("meld", detect=_is_meld, description="a MELD folder of *_sent_emo.csv files")
def read_meld(path: Path) -> Corpus:
    """Read MELD's three released splits (text, speaker, emotion, dialogue and turn)."""
    path = Path(path)
    if not _is_meld(path):
        raise DataError(f"{path}: a MELD folder holds {sorted(FILES.values())}")
    records = [r for split, name in FILES.items() for r in _read_split(path / name, split)]
    group_dialogues(records, str(path))  # DataError for a repeated turn
    return Corpus(
        name="meld",
        records=records,
        emotions=list(EMOTIONS),
        task="singlelabel",
        info={"first_turn": 0},
    )
