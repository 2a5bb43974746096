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
3. With --encoder-context K...: the context inside the encoder instead. Each utterance
   ("Speaker: words") is encoded by the embedded MiniLM as the second segment of a pair whose
   first segment is its last K turns, and only the utterance's own tokens are mean-pooled: its
   words have attended to the turns before it (the frozen analogue of what fine-tuned
   conversational encoders do). The same probe, dev weighted F1, K = 0 as the control.

4. With --label-context K...: the past turns' *emotions* beside the utterance's vector (the
   K = 0 encoding of 3.): the mean one-hot of the current speaker's last K turns and of the
   others' (each with a "has any" flag), as gold labels (the ceiling: what a dialogue state
   that knew the past emotions would give) and as the probe's own predicted probabilities
   (what a robot has at run time; cross-fitted by dialogue on train, so no turn's prediction
   saw its own label). The probe at C = 0.1, dev weighted F1.

    python benchmarks/meld_context_probe.py --features /tmp/meld/text_minilm.h5
    python benchmarks/meld_context_probe.py --encoder-context 0 1 3 8   # ~2-7 min per K
    python benchmarks/meld_context_probe.py --label-context 1 3          # ~3 min
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.preprocessing import StandardScaler

from hri_emo.data.readers import read_corpus
from hri_emo.data.store.feature_store import FeatureStore
from hri_emo.encoders.text_hf import load_text_model

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


@torch.no_grad()
def encoded_in_context(dialogues: dict[str, list], k: int, batch: int = 32) -> dict:
    """record id -> mean MiniLM state of the utterance's own tokens, encoded after its last k
    turns (k = 0: the utterance alone)."""
    tokenizer, model, _ = load_text_model("minilm")
    items = [
        (r, " ".join(f"{p.speaker}: {p.text}" for p in turns[max(0, i - k) : i]))
        for turns in dialogues.values()
        for i, r in enumerate(turns)
    ]
    vectors = {}
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        current = [f"{r.speaker}: {r.text}" for r, _ in chunk]
        if k:
            pairs = ([context for _, context in chunk], current)
            enc = tokenizer(
                *pairs,
                truncation="only_first",
                max_length=256,
                padding=True,
                return_tensors="pt",
                return_token_type_ids=True,
            )
            own = (enc["token_type_ids"] == 1) & (enc["attention_mask"] == 1)
        else:
            enc = tokenizer(
                current, truncation=True, max_length=256, padding=True, return_tensors="pt"
            )
            own = enc["attention_mask"] == 1
        weights = own[..., None].float()
        mean = (model(**enc).last_hidden_state * weights).sum(1) / weights.sum(1)
        vectors.update({r.id: v for (r, _), v in zip(chunk, mean.numpy())})
    return vectors


def probe_scores(train: list, dev: list, features, cs: list[float]) -> list[float]:
    """Dev weighted F1 of StandardScaler + LogisticRegression(C) for each C."""
    x_train, x_dev = np.stack([features(r) for r in train]), np.stack([features(r) for r in dev])
    scaler = StandardScaler().fit(x_train)
    scores = []
    for c in cs:
        probe = LogisticRegression(C=c, max_iter=3000).fit(
            scaler.transform(x_train), [r.label for r in train]
        )
        predicted = probe.predict(scaler.transform(x_dev))
        scores.append(f1_score([r.label for r in dev], predicted, average="weighted"))
    return scores


def predicted_probabilities(train: list, dev: list, vectors: dict, c: float = 0.1) -> dict:
    """record id -> the probe's class probabilities: cross-fitted over 5 folds of training
    dialogues for train, from the probe fitted on all of train for dev."""
    from sklearn.model_selection import GroupKFold

    def fit(records: list):
        x = np.stack([vectors[r.id] for r in records])
        scaler = StandardScaler().fit(x)
        probe = LogisticRegression(C=c, max_iter=3000).fit(
            scaler.transform(x), [r.label for r in records]
        )
        return lambda rs: probe.predict_proba(
            scaler.transform(np.stack([vectors[r.id] for r in rs]))
        )

    probabilities = {}
    folds = GroupKFold(5).split(train, groups=[r.dialogue for r in train])
    for fitted, held in folds:
        predict = fit([train[i] for i in fitted])
        held_out = [train[i] for i in held]
        probabilities.update(zip((r.id for r in held_out), predict(held_out)))
    probabilities.update(zip((r.id for r in dev), fit(train)(dev)))
    return probabilities


def past_emotions(record, turns: list, k: int, emotion_of) -> np.ndarray:
    """Mean emotion vector of the speaker's own last k turns and of the others' last k, each
    with a flag for having any."""
    index = [r.id for r in turns].index(record.id)
    parts = []
    for own in (True, False):
        past = [r for r in turns[:index] if (r.speaker == record.speaker) == own][-k:]
        mean = np.mean([emotion_of(r) for r in past], axis=0) if past else 0 * emotion_of(record)
        parts += [mean, [float(bool(past))]]
    return np.concatenate(parts)


def label_context(train: list, dev: list, dialogues: dict, ks: list[int]) -> None:
    """Dev weighted F1 with the past turns' gold or predicted emotions beside the vector."""
    vectors = encoded_in_context(dialogues, 0)
    emotions = sorted({r.label for r in train})
    predicted = predicted_probabilities(train, dev, vectors)
    sources = {
        "gold labels (ceiling)": lambda r: np.eye(len(emotions))[emotions.index(r.label)],
        "predicted": lambda r: predicted[r.id],
    }
    [alone] = probe_scores(train, dev, lambda r: vectors[r.id], [0.1])
    print(f"| 0 | alone | 0.1 | {alone:.3f} |")
    for name, emotion_of in sources.items():
        for k in ks:

            def beside(record, k=k, emotion_of=emotion_of):
                turns = dialogues[record.dialogue]
                return np.concatenate(
                    [vectors[record.id], past_emotions(record, turns, k, emotion_of)]
                )

            [score] = probe_scores(train, dev, beside, [0.1])
            print(f"| {k} | emotions, {name}, by speaker | 0.1 | {score:.3f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--features", type=Path, help="MiniLM word store (.h5)")
    parser.add_argument("--c", type=float, nargs="+", default=[0.01, 0.1])
    parser.add_argument("--encoder-context", type=int, nargs="+", metavar="K")
    parser.add_argument("--label-context", type=int, nargs="+", metavar="K")
    args = parser.parse_args()
    if not args.features and args.encoder_context is None and args.label_context is None:
        parser.error("give --features, --encoder-context and/or --label-context")
    records = [r for r in read_corpus(args.data, format="meld").records if r.split != "test"]
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
    train = [r for r in records if r.split == "train"]
    dev = [r for r in records if r.split == "valid"]
    print("| past turns | how | C | dev weighted F1 |\n|---|---|---|---|")
    if args.features:
        with FeatureStore.open(args.features) as store:
            vectors = {r.id: np.asarray(store.read(r.id).features).mean(axis=0) for r in records}
        for k, how in SETTINGS:

            def beside(record, k=k, how=how):
                return turn_vectors(record, dialogues[record.dialogue], vectors, k, how)

            scores = probe_scores(train, dev, beside, args.c)
            for c, score in zip(args.c, scores):
                print(f"| {k} | {how} | {c:g} | {score:.3f} |", flush=True)
    for k in args.encoder_context or []:
        encoded = encoded_in_context(dialogues, k)
        scores = probe_scores(train, dev, lambda r, encoded=encoded: encoded[r.id], args.c)
        for c, score in zip(args.c, scores):
            print(f"| {k} | in the encoder | {c:g} | {score:.3f} |", flush=True)
    if args.label_context:
        label_context(train, dev, dialogues, args.label_context)


if __name__ == "__main__":
    main()
