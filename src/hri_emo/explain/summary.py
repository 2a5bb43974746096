"""Corpus-level analysis of many `UtteranceExplanation`s: beta per true label, per predicted
emotion and per grouping column (speaker, corpus, condition), and the words most attributed to
each emotion over the split. `summarize` returns a JSON-ready dict; `summary_figures` draws it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from hri_emo.result import UtteranceExplanation

MIN_COUNT = 2  # a word must occur this often in the split to be ranked


def summarize(
    explanations: Sequence[UtteranceExplanation],
    group_by: Sequence[str] = ("speaker",),
    top_k: int = 10,
) -> dict[str, Any]:
    """Beta distributions and top words over `explanations`.

    - `beta_by_true_label` / `beta_by_predicted`: {label: stats} (an utterance with several
      labels counts once under each); stats are n, mean, std, quartiles and the values.
    - `beta_by_group`: {column: {value: stats}} for each `group_by` column found in the
      explanations' `metadata`.
    - `top_words`: {emotion: [[word, count, selectivity], ...]}: the `top_k` words that raise
      the emotion more than the other emotions, on average over every occurrence (see
      `top_words`).
    """
    by_true: dict[str, list[float]] = defaultdict(list)
    by_pred: dict[str, list[float]] = defaultdict(list)
    by_group: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for exp in explanations:
        if exp.beta_mean is None or not np.isfinite(exp.beta_mean):
            continue
        for label in exp.true_labels or []:
            by_true[label].append(exp.beta_mean)
        for label in exp.predicted:
            by_pred[label].append(exp.beta_mean)
        for column in group_by:
            if column in exp.metadata and exp.metadata[column] is not None:
                by_group[column][str(exp.metadata[column])].append(exp.beta_mean)
    return {
        "utterances": len(explanations),
        "with_beta": sum(1 for e in explanations if e.beta_mean is not None),
        "beta_by_true_label": {k: stats(v) for k, v in sorted(by_true.items())},
        "beta_by_predicted": {k: stats(v) for k, v in sorted(by_pred.items())},
        "beta_by_group": {
            column: {k: stats(v) for k, v in sorted(groups.items())}
            for column, groups in by_group.items()
        },
        "top_words": top_words(explanations, top_k),
    }


def stats(values: Sequence[float]) -> dict[str, Any]:
    array = np.asarray(values, dtype=np.float64)
    q1, median, q3 = np.percentile(array, [25, 50, 75])
    return {
        "n": len(array),
        "mean": float(array.mean()),
        "std": float(array.std()),
        "q1": float(q1),
        "median": float(median),
        "q3": float(q3),
        "values": array.round(4).tolist(),
    }


def top_words(explanations: Sequence[UtteranceExplanation], top_k: int = 10) -> dict[str, list]:
    """{emotion: [[word, count, selectivity], ...]}, the most selective words first.

    A word's selectivity for emotion e is its attribution to e minus its mean attribution to
    the other emotions, averaged over *every* occurrence in the split (lower-cased, punctuation
    stripped; words seen fewer than `MIN_COUNT` times are left out). No stop-word list: a word
    such as "the" or "am" scores near 0 because the model lets it raise every emotion alike
    (or one emotion in one sentence and another in the next), while "overjoyed" raises happy
    wherever it occurs. Only words with a positive selectivity are listed.
    """
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for exp in explanations:
        if exp.attribution is None or len(exp.emotions) < 2:
            continue
        rows = np.asarray(exp.attribution, dtype=np.float64)  # (E, L)
        others = (rows.sum(axis=0, keepdims=True) - rows) / (len(exp.emotions) - 1)
        selectivity = rows - others  # (E, L)
        for position, word in enumerate(exp.words[: rows.shape[1]]):
            word = normalise_word(word)
            if word:
                for index, emotion in enumerate(exp.emotions):
                    scores[emotion][word].append(float(selectivity[index, position]))
    result = {}
    for emotion in sorted(scores):
        ranked = [
            [word, len(values), round(float(np.mean(values)), 4)]
            for word, values in scores[emotion].items()
            if len(values) >= MIN_COUNT and np.mean(values) > 0
        ]
        ranked.sort(key=lambda entry: -entry[2])
        result[emotion] = ranked[:top_k]
    return result


def normalise_word(word: str) -> str:
    """Lower case without surrounding punctuation ("Great!" -> "great")."""
    return re.sub(r"^\W+|\W+$", "", word.lower())


def summary_figures(summary: dict[str, Any]) -> dict[str, Figure]:
    """Box plots of beta per true label, per predicted emotion and per group; top-word bars."""
    figures: dict[str, Figure] = {}
    for key, title in (
        ("beta_by_true_label", "Beta per true label"),
        ("beta_by_predicted", "Beta per predicted emotion"),
    ):
        if summary.get(key):
            figures[key] = _beta_boxes(summary[key], title)
    for column, groups in summary.get("beta_by_group", {}).items():
        if groups:
            figures[f"beta_by_{column}"] = _beta_boxes(groups, f"Beta per {column}")
    if summary.get("top_words"):
        figures["top_words"] = _top_word_bars(summary["top_words"])
    return figures


def _beta_boxes(groups: dict[str, dict[str, Any]], title: str) -> Figure:
    names = list(groups)
    fig = Figure(figsize=(max(5.0, 0.6 * len(names) + 2), 3.4))
    ax = fig.add_subplot()
    ax.boxplot([groups[n]["values"] for n in names], showmeans=True)
    ax.set_xticks(
        range(1, len(names) + 1),
        [f"{n}\n(n={groups[n]['n']})" for n in names],
        rotation=45 if len(names) > 8 else 0,
        ha="right" if len(names) > 8 else "center",
    )
    ax.set_ylim(0, 1)
    ax.set_ylabel("beta (1 = audio, 0 = text)")
    ax.set_title(title + " (triangle = mean)")
    fig.tight_layout()
    return fig


def _top_word_bars(top: dict[str, list]) -> Figure:
    emotions = list(top)
    cols = min(3, len(emotions))
    rows = int(np.ceil(len(emotions) / cols))
    fig = Figure(figsize=(4.2 * cols, 3.0 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, emotion in zip(axes, emotions):
        words = [w for w, _, _ in top[emotion]][::-1]
        ax.barh(words, [score for _, _, score in top[emotion]][::-1], color="tab:green")
        ax.set_title(f"{emotion}: words that raise it most")
        ax.set_xlabel("attribution to it minus to the others (mean)")
    for ax in axes[len(emotions) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig
