"""The demo's last step: explain every test utterance, check beta and the alignment against what
the corpus knows, and write the HTML report for a handful of them.

The corpus knows which modality carries each label (`carrier`) and each word's true time span, so
two claims of the model can be checked: beta (audio trust) is higher where the voice carries the
label than where the words do, and each word's most attended audio frame lies inside that word.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from hri_emo.demo.corpus import CARRIERS
from hri_emo.result import UtteranceExplanation

REPORT_PER_CARRIER = 2  # test utterances of each carrier shown in the report


def attach_corpus_truth(explanations: list[UtteranceExplanation], rows: dict[str, dict]) -> None:
    """Give each explanation its exact word spans and say which modality carries its label."""
    for exp in explanations:
        row = rows[exp.utterance_id]
        spans = json.loads(row["word_spans"])
        if len(spans) == len(exp.words):
            exp.word_times = [None if s is None else (s[0], s[1]) for s in spans]
        exp.notes.append(
            f"Demo corpus: {row['carrier']!r} carries the label "
            f"(words say {row['word_emotion']}, the voice says {row['voice_emotion']})."
        )
        marks = json.loads(row.get("rationale") or "[]")
        marked = [w.strip(",.;:!?") for w, flag in zip(row["text"].split(), marks) if flag]
        if marked:  # human rationale marks: shown for comparison, never used by the model
            exp.notes.append(f"Words a person marked as carrying the emotion: {', '.join(marked)}.")
            if len(marks) == len(exp.words):
                exp.metadata["rationale"] = [bool(flag) for flag in marks]  # drawn in the figure


def accuracy_by_carrier(predictions_csv: Path, rows: dict[str, dict]) -> dict[str, float]:
    """Test accuracy of one model on the utterances of each carrier (from its predictions.csv)."""
    with predictions_csv.open() as f:
        predicted = {p["id"]: p["predicted"] for p in csv.DictReader(f)}
    result = {}
    for carrier in CARRIERS:
        of_carrier = [r for r in rows.values() if r["carrier"] == carrier]
        hits = [predicted[r["id"]] == r["label"] for r in of_carrier]
        if hits:
            result[carrier] = float(np.mean(hits))
    return result


def report_choice(explanations: list[UtteranceExplanation]) -> list[UtteranceExplanation]:
    """A few utterances of each carrier, the first ones of the test split (no cherry-picking)."""
    chosen = []
    for carrier in CARRIERS:
        of_carrier = [e for e in explanations if e.metadata.get("carrier") == carrier]
        chosen.extend(of_carrier[:REPORT_PER_CARRIER])
    return chosen


def explain_test_split(
    benchmark_dir: Path, models: tuple[str, ...], manifest: Path, out: Path
) -> dict[str, Any]:
    """Accuracy and beta by carrier, alignment accuracy, and the HTML report; a summary dict.
    `models[0]` is the model explained; every model's accuracy by carrier is reported."""
    from hri_emo.explain import alignment_accuracy, explain_corpus, summarize, write_report

    with manifest.open() as f:
        rows = {r["id"]: r for r in csv.DictReader(f) if r["split"] == "test"}
    runs = {m: benchmark_dir / "runs" / m / "seed0" for m in models}
    explanations = explain_corpus(runs[models[0]], "test")
    attach_corpus_truth(explanations, rows)
    plausibility = attribution_checks(explanations, rows)
    erased = explain_corpus(runs[models[0]], "test", attribution="erasure")
    attach_corpus_truth(erased, rows)
    plausibility["keyword_top1_erasure"] = attribution_checks(erased, rows)["keyword_top1"]
    # the report draws the word erasure maps (they find the emotional words: docs/explanations.md)
    summary = summarize(erased, group_by=("carrier", "speaker"))
    by_carrier = summary["beta_by_group"]["carrier"]
    report = write_report(
        report_choice(erased),
        out,
        summary=summary,
        title=f"HRI-EMO demo: {models[0]} on voices and sentences it never heard",
    )
    return {
        "beta_by_carrier": {c: by_carrier[c]["mean"] for c in CARRIERS if c in by_carrier},
        "beta_under_noise": beta_under_noise(runs[models[0]], rows, manifest.parent),
        "accuracy_by_carrier": {
            m: accuracy_by_carrier(run / "eval" / "best-test" / "predictions.csv", rows)
            for m, run in runs.items()
        },
        "alignment_accuracy": alignment_accuracy(explanations),
        **plausibility,
        "report": str(report),
    }


def attribution_checks(explanations: list[UtteranceExplanation], rows: dict[str, dict]) -> dict:
    """Keyword top-1 (utterances whose wording carries their label, predicted right), map
    separation (all), and the audio share of the predicted emotion's map per carrier."""
    from hri_emo.explain.plausibility import audio_share, keyword_top1, map_separation

    worded, marks = [], []
    for exp in explanations:
        row = rows[exp.utterance_id]
        carried = row["word_emotion"] == row["label"] != "neutral"
        if carried and exp.predicted == [row["label"]]:
            worded.append(exp)
            marks.append([bool(flag) for flag in json.loads(row.get("rationale") or "[]")])
    shares: dict[str, list[float]] = {c: [] for c in CARRIERS}
    for exp in explanations:
        share = audio_share(exp)
        if share is not None:
            shares[rows[exp.utterance_id]["carrier"]].append(share)
    return {
        "keyword_top1": keyword_top1(worded, marks),
        "map_separation": map_separation(explanations),
        "audio_share_by_carrier": {c: float(np.mean(v)) for c, v in shares.items() if v},
    }


def beta_under_noise(run: Path, rows: dict[str, dict], folder: Path) -> dict[str, float]:
    """Mean beta over the test recordings as given, under white noise at 0 dB, and replaced by
    noise alone (the corpus transcripts; through the recognizer, as a user's input would go)."""
    from hri_emo.encoders import load_audio
    from hri_emo.inference import EmotionRecognizer
    from hri_emo.robustness.corruptions import noise_only, white_noise

    recognizer = EmotionRecognizer.from_pretrained(run)
    rng = np.random.default_rng(0)
    conditions = {
        "clean": lambda wave: wave,
        "white-0db": lambda wave: white_noise(wave, 0.0, rng),
        "noise-only": lambda wave: noise_only(wave, rng),
    }
    betas: dict[str, list[float]] = {name: [] for name in conditions}
    for row in rows.values():
        wave = load_audio(folder / row["wav"])
        for name, corrupt in conditions.items():
            noisy = corrupt(wave)
            noisy = noisy / max(
                1.0, float(np.abs(noisy).max())
            )  # a peak over 1 scaled, not clipped
            result = recognizer.classify(noisy, row["text"])
            if result.beta_mean is not None:
                betas[name].append(result.beta_mean)
    return {name: float(np.mean(values)) for name, values in betas.items() if values}
