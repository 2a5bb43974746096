"""Why does beta (the gate) not follow which modality carries the emotion? Measured on a run.

For every test utterance of a demo run (or any run whose manifest has a `carrier` column) it
compares the model as trained with the same model whose gate is forced to beta = 0 (text only
through the gate) and beta = 1 (audio only), and reports per carrier:

- accuracy as trained / forced text / forced audio: how much beta *could* change the answer
  (if forcing it changes little, the decoder or the pooled read-out bypass it);
- mean beta as trained, and the benefit of audio per item, log p(true | beta=1) - log p(true |
  beta=0), with its correlation to the item's beta: does the gate follow the evidence?

    PYTHONPATH=src python benchmarks/gate_diagnosis.py hri-emo-demo/benchmark/runs/hriemo-v2/seed0
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections import defaultdict

import numpy as np

from hri_emo.explain import explain_corpus
from hri_emo.model.beta_gate import BetaGate


@contextlib.contextmanager
def forced_beta(value: float):
    """Every BetaGate gives beta = `value` at the valid positions of items with both
    modalities (missing modalities keep their exact 0 / 1): the gate's own `force`."""
    original = BetaGate.forward

    def forward(self, audio_context, text, mask, has_text, has_audio, **options):
        options["force"] = value
        return original(self, audio_context, text, mask, has_text, has_audio, **options)

    BetaGate.forward = forward
    try:
        yield
    finally:
        BetaGate.forward = original


def run(path: str, split: str) -> dict:
    runs = {"trained": explain_corpus(path, split)}
    for name, value in (("text", 0.0), ("audio", 1.0)):
        with forced_beta(value):
            runs[name] = explain_corpus(path, split)
    rows = defaultdict(lambda: defaultdict(list))
    for trained, text, audio in zip(runs["trained"], runs["text"], runs["audio"]):
        carrier = trained.metadata.get("carrier", "all")
        truth = trained.true_labels[0]
        for name, exp in (("trained", trained), ("text", text), ("audio", audio)):
            rows[carrier][f"acc_{name}"].append(exp.predicted == [truth])
        benefit = np.log(audio.probabilities[truth] + 1e-9) - np.log(
            text.probabilities[truth] + 1e-9
        )
        rows[carrier]["beta"].append(trained.beta_mean)
        rows[carrier]["audio_benefit"].append(benefit)
    report = {}
    all_beta, all_benefit = [], []
    for carrier, values in rows.items():
        report[carrier] = {k: round(float(np.mean(v)), 3) for k, v in values.items()}
        report[carrier]["n"] = len(values["beta"])
        all_beta += values["beta"]
        all_benefit += values["audio_benefit"]
    report["corr(beta, audio_benefit)"] = round(float(np.corrcoef(all_beta, all_benefit)[0, 1]), 3)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    print(json.dumps(run(args.run, args.split), indent=2))


if __name__ == "__main__":
    main()
