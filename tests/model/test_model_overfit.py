"""Integration: each HRI-EMO preset can memorise a tiny batch (the whole stack learns)."""

from __future__ import annotations

import pytest
import torch


@pytest.mark.parametrize(
    ("preset", "task"), [("hriemo-v1", "multilabel"), ("hriemo-v2", "singlelabel")]
)
def test_tiny_batch_is_overfitted(make_model, make_inputs, preset, task):
    model = make_model(preset, task=task, dropout=0.0, attention_dropout=0.0, input_dropout=0.0)
    inputs = make_inputs(batch=8, task=task)
    inputs["text_mask"][5] = False  # one item answered from audio alone
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = model(**inputs).loss.item()
    for _ in range(200):
        loss = model(**inputs).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert first > 0.5  # chance level: ~0.69 (BCE) or ~1.39 (4-class cross-entropy)
    model.eval()  # the task loss alone (training adds v2's gate supervision, which has a floor)
    output = model(**inputs)
    assert output.loss.item() < 0.05
    predictions = output.probabilities
    if task == "multilabel":
        assert torch.equal((predictions > 0.5).float(), inputs["labels"])
    else:
        assert torch.equal(predictions.argmax(-1), inputs["labels"])
