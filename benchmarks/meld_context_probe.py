"""Is there context for a model to use on MELD? Persistence of emotions, and a linear probe.

Two measurements on MELD's train and dev splits, both from the MiniLM word store that
benchmarks/meld_context.py writes (no training of HRI-EMO):

1. Persistence: how often an utterance's emotion equals the previous turn's, and the same
   speaker's previous turn's, against what the label frequencies give by chance. Context can
   only pay where emotions persist (benchmarks/context_persistence.py).
2. A logistic-regression probe (StandardScaler + LogisticRegression, C in --c) of the
   utterance's mean MiniLM vector, alone and with its past turns beside it: the previous turn,
   the mean of the last k, or the last k split into the current speaker's and the others'.
   Weighted F1 on dev. If a probe gains nothing from the turns, the frozen features carry no
   context the model could use.

    python benchmarks/meld_context_probe.py --features /tmp/meld/text_minilm.h5
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.preprocessing import StandardScaler

from hri_emo.data.readers import read_corpus
from hri_emo.data.store.feature_store import FeatureStore

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "meld"
SETTINGS = ((0, "alone"), (1, "previous"), (3, "mean"), (3, "by speaker"), (8, "by speaker"))


def persistence(dialogues: dict[str, list]) -> dict[str, float]:
    """P(same emotion as the previous turn / the speaker's previous turn) and chance."""
    previous, own, counts = [], [], Counter()
    for turns in dialogues.values():
        last_by_speaker: dict[str, str] = {}
        for i, record in enumerate(turns):
            counts[record.label] += 1
            if i:
                previous.append(record.label == turns[i - 1].label)
            if record.speaker in last_by_speaker:
                own.append(record.label == last_by_speaker[record.speaker])
            last_by_speaker[record.speaker] = record.label
    total = sum(counts.values())
    chance = sum((n / total) ** 2 for n in counts.values())
    return {
        "previous turn": np.mean(previous),
        "speaker's previous": np.mean(own),
        "chance": chance,
    }


def turn_vectors(record, turns: list, vectors: dict, k: int, how: str) -> np.ndarray:
    """The utterance's vector with its last k turns beside it, as `how` says."""
    index = [r.id for r in turns].index(record.id)
    past = turns[max(0, index - k) : index][::-1]
    zero = np.zeros_like(vectors[record.id])

    def mean(items: list) -> np.ndarray:
        return np.mean([vectors[r.id] for r in items], axis=0) if items else zero

    parts = [vectors[record.id]]
    if how == "previous":
        parts.append(vectors[past[0].id] if past else zero)
    elif how == "mean":
        parts.append(mean(past))
    elif how == "by speaker":
        parts.append(mean([r for r in past if r.speaker == record.speaker]))
        parts.append(mean([r for r in past if r.speaker != record.speaker]))
    return np.concatenate(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--features", type=Path, required=True, help="MiniLM store (.h5)")
    parser.add_argument("--c", type=float, nargs="+", default=[0.01, 0.1])
    args = parser.parse_args()
    records = list(read_corpus(args.data, format="meld").records)
    dialogues: dict[str, list] = defaultdict(list)
    for record in records:
        dialogues[record.dialogue].append(record)
    for turns in dialogues.values():
        turns.sort(key=lambda r: r.turn)
    train_dialogues = {k: v for k, v in dialogues.items() if v[0].split == "train"}
    print(
        "persistence (train):",
        {k: round(float(v), 3) for k, v in persistence(train_dialogues).items()},
    )
    with FeatureStore.open(args.features) as store:
        vectors = {r.id: np.asarray(store.read(r.id).features).mean(axis=0) for r in records}
    train = [r for r in records if r.split == "train"]
    dev = [r for r in records if r.split == "valid"]
    print("| past turns | how | C | dev weighted F1 |\n|---|---|---|---|")
    for k, how in SETTINGS:
        x_train = np.stack([turn_vectors(r, dialogues[r.dialogue], vectors, k, how) for r in train])
        x_dev = np.stack([turn_vectors(r, dialogues[r.dialogue], vectors, k, how) for r in dev])
        scaler = StandardScaler().fit(x_train)
        for c in args.c:
            probe = LogisticRegression(C=c, max_iter=2000).fit(
                scaler.transform(x_train), [r.label for r in train]
            )
            predicted = probe.predict(scaler.transform(x_dev))
            score = f1_score([r.label for r in dev], predicted, average="weighted")
            print(f"| {k} | {how} | {c:g} | {score:.3f} |", flush=True)


if __name__ == "__main__":
    main()
