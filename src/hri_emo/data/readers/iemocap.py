"""IEMOCAP as released (IEMOCAP_full_release/Session1..5).

Layout read:
    SessionN/dialog/EmoEvaluation/<dialog>.txt   one summary line per evaluated turn:
        [6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]
        (start - end in the dialog recording, turn id, consensus label, [valence, arousal,
        dominance]); the evaluator lines under it (C-E2:, A-F1:, ...) are skipped.
    SessionN/dialog/transcriptions/<dialog>.txt  Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.
    SessionN/sentences/wav/<dialog>/<turn id>.wav  the turn's own recording.

The speaker is the session plus the gender letter that starts the turn's last part
("Ses01F_impro01_M013" -> "Ses01_M"; the letter after "Ses01" names who wore the markers).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from hri_emo.data.readers.common import ensure_unique_ids, log_dropped
from hri_emo.data.readers.registry import register_reader
from hri_emo.data.records import Corpus, UtteranceRecord
from hri_emo.errors import ConfigError, DataError

# Consensus codes -> class names; codes not in a mapping (fru, sur, fea, dis, oth, xxx, ...)
# are left out and counted in corpus.info["dropped"].
CLASS_MAPS = {
    4: {"neu": "neutral", "hap": "happy", "exc": "happy", "sad": "sad", "ang": "angry"},
    6: {
        "neu": "neutral",
        "hap": "happy",
        "sad": "sad",
        "ang": "angry",
        "exc": "excited",
        "fru": "frustrated",
    },
}
EMOTIONS = {
    4: ["neutral", "happy", "sad", "angry"],
    6: ["neutral", "happy", "sad", "angry", "excited", "frustrated"],
}

EVALUATION_LINE = re.compile(
    r"^\[(?P<start>\d+(?:\.\d+)?)\s*-\s*(?P<end>\d+(?:\.\d+)?)\]\s+(?P<id>Ses\S+)\s+"
    r"(?P<label>\S+)\s+\[(?P<v>[-\d.]+),\s*(?P<a>[-\d.]+),\s*(?P<d>[-\d.]+)\]\s*$"
)
TRANSCRIPT_LINE = re.compile(r"^(?P<id>Ses\S+)\s+\[[\d.]+-[\d.]+\]:\s?(?P<text>.*)$")
TURN_ID = re.compile(r"^Ses(?P<session>\d\d)[FM]_(?P<dialog>.+)_(?P<gender>[FM])\w*$")
SESSION_DIR = re.compile(r"^Session(\d+)$")


def session_folders(root: Path) -> dict[int, Path]:
    """{session number: folder} for the SessionN folders under `root`."""
    if not root.is_dir():
        return {}
    found = {}
    for child in root.iterdir():
        match = SESSION_DIR.match(child.name)
        if match and (child / "dialog" / "EmoEvaluation").is_dir():
            found[int(match.group(1))] = child
    return found


def parse_evaluation(path: Path) -> list[dict[str, object]]:
    """The summary lines of one EmoEvaluation file (lines starting with "[")."""
    turns = []
    for number, line in enumerate(
        path.read_text(encoding="utf-8", errors="replace").splitlines(), 1
    ):
        if not line.startswith("["):
            continue
        match = EVALUATION_LINE.match(line.strip())
        if match is None:
            raise DataError(
                f"{path}, line {number}: expected '[start - end]<TAB>turn id<TAB>label<TAB>"
                f"[v, a, d]', found {line.strip()!r:.100}"
            )
        turns.append(match.groupdict())
    return turns


def parse_transcripts(path: Path) -> dict[str, str]:
    """{turn id: text} from one transcription file; lines without a timestamp are skipped."""
    if not path.is_file():
        return {}
    texts = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        match = TRANSCRIPT_LINE.match(line.strip())
        if match:
            texts[match.group("id")] = match.group("text").strip()
    return texts


def _split_of(session: int, test_session: int | None, valid_session: int | None) -> str:
    if test_session is None:
        return f"session{session}"
    if session == test_session:
        return "test"
    return "valid" if session == valid_session else "train"


def _record(
    turn: dict, session_dir: Path, session: int, label: str, text: str | None, index: int
) -> UtteranceRecord:
    turn_id = str(turn["id"])
    match = TURN_ID.match(turn_id)
    if match is None:
        raise DataError(f"{session_dir}: turn id {turn_id!r} is not like 'Ses01F_impro01_F000'")
    dialog = turn_id.rsplit("_", 1)[0]
    return UtteranceRecord(
        id=turn_id,
        corpus="iemocap",
        split=f"session{session}",
        text=text,
        speaker=f"Ses{match.group('session')}_{match.group('gender')}",
        wav_path=session_dir / "sentences" / "wav" / dialog / f"{turn_id}.wav",
        label=label,
        dialogue=dialog,
        turn=index,
        labels={
            "valence": float(turn["v"]),
            "arousal": float(turn["a"]),
            "dominance": float(turn["d"]),
        },
        extra={
            "session": session,
            "dialog": dialog,
            "gender": match.group("gender"),
            "improvised": "_impro" in dialog,
            "raw_label": turn["label"],
            "dialog_start": float(turn["start"]),
            "dialog_end": float(turn["end"]),
        },
    )


def _read_session(
    session_dir: Path, session: int, mapping: dict[str, str], dropped: Counter[str]
) -> list[UtteranceRecord]:
    records = []
    evaluations = sorted((session_dir / "dialog" / "EmoEvaluation").glob("Ses*.txt"))
    for evaluation in evaluations:
        transcripts = parse_transcripts(session_dir / "dialog" / "transcriptions" / evaluation.name)
        # turn index = rank by start time among all of the dialog's turns (left-out ones too)
        turns = sorted(parse_evaluation(evaluation), key=lambda t: (float(t["start"]), t["id"]))
        for index, turn in enumerate(turns):
            label = mapping.get(str(turn["label"]))
            if label is None:
                dropped[f"label {turn['label']!r}"] += 1
                continue
            text = transcripts.get(str(turn["id"]))
            records.append(_record(turn, session_dir, session, label, text, index))
    return records


@register_reader(
    "iemocap",
    detect=lambda path: bool(session_folders(path)),
    description="an IEMOCAP_full_release folder with Session1..5/dialog/EmoEvaluation",
)
def read_iemocap(
    path: Path,
    *,
    classes: int = 4,
    test_session: int | None = 5,
    valid_session: int | None = None,
    sessions: list[int] | None = None,
    name: str = "iemocap",
) -> Corpus:
    """Read IEMOCAP with the 4-class (happy+excited merged) or 6-class mapping.

    Splits are leave-one-session-out: `test_session` -> "test", `valid_session` -> "valid",
    the others "train"; `test_session=None` names splits "session1".."session5" instead.
    Utterances whose label the mapping lacks are left out and counted in info["dropped"].
    VAD scores go to record.labels (valence, arousal, dominance).
    """
    if classes not in CLASS_MAPS:
        raise ConfigError(f"classes must be 4 or 6, got {classes!r}")
    found = session_folders(Path(path))
    wanted = sorted(found) if sessions is None else sorted(int(s) for s in sessions)
    missing = [s for s in wanted if s not in found]
    if not found or missing:
        raise DataError(
            f"{path}: no Session{missing or '1..5'} folder with dialog/EmoEvaluation "
            f"(found sessions {sorted(found)})"
        )
    for role, session in (("test_session", test_session), ("valid_session", valid_session)):
        if session is not None and session not in wanted:
            raise ConfigError(f"{role}={session} is not among the sessions read {wanted}")
    dropped: Counter[str] = Counter()
    records = []
    for session in wanted:
        records += _read_session(found[session], session, CLASS_MAPS[classes], dropped)
    ensure_unique_ids((r.id for r in records), str(path))
    for record in records:
        record.corpus = name
        record.split = _split_of(record.extra["session"], test_session, valid_session)
    log_dropped(name, dropped)
    info = {
        "dropped": dict(dropped),
        "classes": classes,
        "without_transcript": sum(r.text is None for r in records),
    }
    return Corpus(
        name=name, records=records, emotions=list(EMOTIONS[classes]), task="singlelabel", info=info
    )
