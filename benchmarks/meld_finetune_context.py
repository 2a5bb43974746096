"""Does an encoder *trained* with the turns before an utterance read context on MELD?

benchmarks/meld_context_probe.py found no context in MELD's frozen MiniLM features, not even
with the past turns inside the encoder's input. Published gains on MELD come from encoders
fine-tuned with the preceding turns in their input (e.g. EmoBERTa). This measures that step with
the embedded MiniLM: each utterance ("Speaker: words") is the second segment of a pair whose
first segment is its last K turns ("Speaker: words" each, the oldest cut first when too long),
the utterance's own tokens are mean-pooled, and MiniLM and a linear head are fine-tuned
together (cross-entropy, AdamW, linear warm-up and decay). K = 0 (the utterance alone) is the
control. Dev weighted F1 after each epoch; MELD's test split is not touched.

    python benchmarks/meld_finetune_context.py --context 0 --threads 1   # ~6 min per epoch
    python benchmarks/meld_finetune_context.py --context 3 --threads 1   # ~15 min per epoch
"""

from __future__ import annotations

import argparse
import math
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score
from torch import nn

from hri_emo.data.readers import read_corpus
from hri_emo.encoders.text_hf import load_text_model

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "meld"


def with_context(records: list, k: int) -> list[tuple]:
    """(record, its last k turns as one "Speaker: words ..." string) for every record."""
    dialogues: dict[str, list] = defaultdict(list)
    for record in records:
        dialogues[record.dialogue].append(record)
    items = []
    for turns in dialogues.values():
        turns.sort(key=lambda r: r.turn)
        for i, record in enumerate(turns):
            past = " ".join(f"{p.speaker}: {p.text}" for p in turns[max(0, i - k) : i])
            items.append((record, past))
    return items


def encode(tokenizer, chunk: list[tuple], k: int, max_length: int) -> tuple[dict, torch.Tensor]:
    """The tokenizer's batch and the (B, L) mask of the utterance's own tokens."""
    current = [f"{r.speaker}: {r.text}" for r, _ in chunk]
    if k:
        enc = tokenizer([past for _, past in chunk], current, truncation="only_first",
                        max_length=max_length, padding=True, return_tensors="pt",
                        return_token_type_ids=True)  # fmt: skip
        return enc, (enc["token_type_ids"] == 1) & (enc["attention_mask"] == 1)
    enc = tokenizer(current, truncation=True, max_length=max_length, padding=True,
                    return_tensors="pt")  # fmt: skip
    return enc, enc["attention_mask"] == 1


class Classifier(nn.Module):
    def __init__(self, encoder: nn.Module, classes: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, classes)

    def forward(self, enc: dict, own: torch.Tensor) -> torch.Tensor:
        states = self.encoder(**enc).last_hidden_state
        weights = own[..., None].float()
        pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return self.head(self.dropout(pooled))


@torch.no_grad()
def evaluate(model, tokenizer, items, k, max_length, labels, batch) -> dict[str, float]:
    model.eval()
    predicted = []
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        predicted += model(*encode(tokenizer, chunk, k, max_length)).argmax(-1).tolist()
    truth = [labels.index(r.label) for r, _ in items]
    return {
        "weighted_f1": f1_score(truth, predicted, average="weighted"),
        "accuracy": accuracy_score(truth, predicted),
    }


def run(args: argparse.Namespace, k: int) -> None:
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    records = [r for r in read_corpus(args.data, format="meld").records if r.split != "test"]
    labels = sorted({r.label for r in records})
    train = [it for it in with_context(records, k) if it[0].split == "train"]
    dev = [it for it in with_context(records, k) if it[0].split == "valid"]
    tokenizer, encoder, _ = load_text_model("minilm")
    tokenizer.truncation_side = "left"  # too long: the oldest turns go first
    model = Classifier(encoder, len(labels))
    optimizer = torch.optim.AdamW(
        [
            {"params": model.encoder.parameters(), "lr": args.lr},
            {"params": model.head.parameters(), "lr": args.head_lr},
        ],
        weight_decay=0.01,
    )
    steps = args.epochs * math.ceil(len(train) / args.batch)
    warmup = max(1, int(0.1 * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup)))
    )
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = rng.permutation(len(train))
        start_time, losses = time.time(), []
        for start in range(0, len(order), args.batch):
            chunk = [train[i] for i in order[start : start + args.batch]]
            target = torch.tensor([labels.index(r.label) for r, _ in chunk])
            loss = loss_fn(model(*encode(tokenizer, chunk, k, args.max_length)), target)
            loss.backward()
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(loss.item())
        scores = evaluate(model, tokenizer, dev, k, args.max_length, labels, 64)
        print(
            f"| {k} | {args.seed} | {epoch} | {np.mean(losses):.3f} | {scores['weighted_f1']:.4f} "
            f"| {scores['accuracy']:.4f} | {time.time() - start_time:.0f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--context", type=int, nargs="+", default=[0, 3], metavar="K")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("| past turns K | seed | epoch | train loss | dev weighted F1 | dev accuracy | s |")
    print("|---|---|---|---|---|---|---|")
    for k in args.context:
        run(args, k)


if __name__ == "__main__":
    main()
