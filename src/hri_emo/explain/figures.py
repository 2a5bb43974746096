"""Matplotlib figures of one `UtteranceExplanation`, drawn onto a given Axes or a new Figure.

Each `*_figure(exp, ax=None)` follows scikit-learn's Display pattern: given `ax` (a matplotlib
Axes) it draws its map there and returns that Axes, so figures compose on one Figure's
subplots; without it, it builds its own Figure (with the recording's energy above a time map,
the histogram beside the beta bars) and returns it. Both return None when the explanation
lacks the map it draws (the report then says why, from `notes`).

    fig = Figure(figsize=(12, 4))
    words, probs = fig.subplots(1, 2)
    attribution_figure(exp, ax=words); probability_figure(exp, ax=probs)

Figures are built with `matplotlib.figure.Figure` (no pyplot state), so they can be made from
any thread and closed by dropping them. Dimension letters: E emotions, W words, F audio frames.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from hri_emo.result import ENVELOPE_HOP_S, UtteranceExplanation

CMAP = "viridis"
MAX_ANNOTATED_CELLS = 300  # annotate heatmap cells with their value up to this many


def figures_for(exp: UtteranceExplanation) -> dict[str, Figure]:
    """Every figure that makes sense for `exp`, by name (insertion order = report order)."""
    makers = {
        "attribution": attribution_figure,
        "frame_attribution": frame_attribution_figure,
        "alignment": alignment_figure,
        "beta": beta_figure,
        "beta_over_time": beta_over_time_figure,
        "probabilities": probability_figure,
    }
    built = {name: make(exp) for name, make in makers.items()}
    return {name: fig for name, fig in built.items() if fig is not None}


def emotion_labels(exp: UtteranceExplanation) -> list[str]:
    """'happy  p=0.83 ≥ t=0.40 *' per emotion: probability, threshold, * if predicted."""
    labels = []
    for emotion in exp.emotions:
        text = f"{emotion}  p={exp.probabilities[emotion]:.2f}"
        if exp.thresholds:
            limit = exp.thresholds[emotion]
            text += f" {'≥' if exp.probabilities[emotion] >= limit else '<'} t={limit:.2f}"
        labels.append(text + (" *" if emotion in exp.predicted else ""))
    return labels


def attribution_figure(exp: UtteranceExplanation, ax: Axes | None = None) -> Figure | Axes | None:
    """Heatmap emotions × words: which words drove each emotion (rows sum to 1)."""
    if exp.attribution is None or not exp.words:
        return None
    values = exp.attribution  # (E, W)
    size = (max(6.0, 0.55 * len(exp.words) + 3.5), 0.45 * len(exp.emotions) + 1.8)
    fig, ax = _canvas(ax, size)
    image = ax.imshow(values, aspect="auto", **_colour_scale(exp, values))
    ax.set_xticks(range(len(exp.words)), exp.words, rotation=60, ha="right")
    ax.set_yticks(range(len(exp.emotions)), emotion_labels(exp))
    if values.size <= MAX_ANNOTATED_CELLS:
        _annotate(ax, values, signed=_signed(exp))
    _mark_predicted(ax, exp)
    title = _predicted_title(
        exp,
        {
            "contribution": "Each word's contribution to each emotion's logit",
            "erasure": "What removing each word does to each emotion's logit",
        }.get(exp.attribution_method, "Attribution: each emotion's attention over the words"),
    )
    if _mark_rationale(ax, exp):
        title += "\npurple: words a person marked (never seen by the model)"
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
    return _finished(fig, ax)


def frame_attribution_figure(
    exp: UtteranceExplanation, ax: Axes | None = None
) -> Figure | Axes | None:
    """Heatmap emotions × time (s), the energy above it: which audio drove each emotion."""
    if exp.frame_attribution is None or exp.frame_times is None:
        return None
    fig, energy, ax = _with_energy(exp, ax, (9.5, 0.45 * len(exp.emotions) + 2.8), 3)
    mesh = ax.pcolormesh(
        _time_edges(exp.frame_times),
        np.arange(len(exp.emotions) + 1) - 0.5,
        exp.frame_attribution,
        shading="flat",
        **_colour_scale(exp, exp.frame_attribution),
    )
    ax.set_yticks(range(len(exp.emotions)), emotion_labels(exp))
    ax.invert_yaxis()
    ax.set_xlabel("time (s)")
    (energy or ax).set_title(
        _predicted_title(exp, "Each audio frame's contribution to each emotion's logit")
        if _signed(exp)
        else "Frame attribution: which audio drove each emotion (* = predicted)"
    )
    ax.figure.colorbar(mesh, ax=[energy, ax] if energy else ax, fraction=0.03, pad=0.01)
    return fig or ax


def _predicted_title(exp: UtteranceExplanation, title: str) -> str:
    """`title` and the legend of *, with a second line for maps read against the others."""
    if exp.logits_centred and _signed(exp):
        return f"{title}\nread against the other emotions (* = predicted)"
    return f"{title} (* = predicted)"


def _signed(exp: UtteranceExplanation) -> bool:
    """Maps in logit units, signed: the exact contributions, or word erasure (whose frame map is
    the exact one)."""
    return exp.attribution_method in ("contribution", "erasure")


def _colour_scale(exp: UtteranceExplanation, values: np.ndarray) -> dict:
    """Signed contributions on a diverging scale centred at 0; attention weights from 0."""
    if _signed(exp):
        limit = float(np.abs(values).max()) or 1.0
        return {"cmap": "RdBu_r", "vmin": -limit, "vmax": limit}
    return {"cmap": CMAP, "vmin": 0}


def alignment_figure(exp: UtteranceExplanation, ax: Axes | None = None) -> Figure | Axes | None:
    """Heatmap words × time (s) with the energy on the same axis: the audio each word attended
    to; a white dot marks each word's peak, a red bar its spoken span when known."""
    if exp.alignment is None or exp.frame_times is None or not exp.words:
        return None
    words = exp.words
    size = (9.5, 0.32 * len(words) + 2.6)
    fig, energy, ax = _with_energy(exp, ax, size, max(2, len(words) / 4))
    mesh = ax.pcolormesh(
        _time_edges(exp.frame_times),
        np.arange(len(words) + 1) - 0.5,
        exp.alignment,
        cmap=CMAP,
        vmin=0,
        shading="flat",
    )
    centres = exp.frame_times.mean(axis=1)
    peaks = centres[exp.alignment.argmax(axis=1)]
    ax.plot(peaks, range(len(words)), "o", color="white", markersize=4, label="peak")
    for row, span in enumerate(exp.word_times or []):
        if span is not None:
            ax.plot(span, [row, row], color="red", linewidth=2.5, alpha=0.8)
    ax.set_yticks(range(len(words)), words)
    ax.invert_yaxis()
    ax.set_xlabel("time (s)")
    title = "Alignment: audio frames each word attended to"
    (energy or ax).set_title(title + (" (red: spoken span)" if exp.word_times else ""))
    ax.figure.colorbar(mesh, ax=[energy, ax] if energy else ax, fraction=0.03, pad=0.01)
    return fig or ax


def beta_figure(exp: UtteranceExplanation, ax: Axes | None = None) -> Figure | Axes | None:
    """Beta per word (mean over dimensions, bar = its spread) and, on its own Figure, its
    histogram over dims beside it."""
    if exp.beta_per_word is None or not exp.words:
        return None
    fig, bars, hist = None, ax, None
    if ax is None:
        fig = Figure(figsize=(max(7.0, 0.45 * len(exp.words) + 4.5), 3.4))
        bars, hist = fig.subplots(1, 2, width_ratios=[3, 1])
    positions = np.arange(len(exp.words))
    bars.bar(
        positions,
        exp.beta_per_word,
        yerr=exp.beta_std_per_word,
        color="tab:orange",
        ecolor="grey",
        capsize=2,
    )
    bars.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    bars.set_ylim(0, 1)
    bars.set_xticks(positions, exp.words, rotation=60, ha="right")
    bars.set_ylabel("beta (1 = audio, 0 = text)")
    bars.set_title(f"Beta per word (mean {exp.beta_mean:.2f}; bars: ±1 std over dims)")
    if exp.beta_per_dim is not None and hist is not None:
        hist.hist(exp.beta_per_dim, bins=20, range=(0, 1), color="tab:orange")
        hist.set_xlabel("beta per hidden dimension")
        hist.set_title("Over dimensions")
    return _finished(fig, bars)


def beta_over_time_figure(
    exp: UtteranceExplanation, ax: Axes | None = None
) -> Figure | Axes | None:
    """Each word's beta drawn over the time it was spoken, with how clean each audio frame was
    judged (`audio_reliability`, models with it); None without word times."""
    spans = exp.word_times or []
    if exp.beta_per_word is None or not any(span is not None for span in spans):
        return None
    fig, ax = _canvas(ax, (max(7.0, 0.45 * len(exp.words) + 4.5), 3.0))
    for word, span, beta in zip(exp.words, spans, exp.beta_per_word):
        if span is None:  # a word the aligner could not place: not drawn at a made-up time
            continue
        ax.hlines(beta, span[0], span[1], color="tab:orange", linewidth=4)
        ax.text((span[0] + span[1]) / 2, min(beta + 0.04, 0.97), word, ha="center", fontsize=7)
    if exp.audio_reliability is not None and exp.frame_times is not None:
        centres = exp.frame_times.mean(axis=1)[: len(exp.audio_reliability)]
        ax.plot(centres, exp.audio_reliability[: len(centres)], color="tab:green", linewidth=1,
                label="audio reliability (how clean each frame was judged)")  # fmt: skip
        ax.legend(loc="lower right", fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("beta (1 = audio, 0 = text)")
    ax.set_title("Beta of each word over the time it was spoken")
    return _finished(fig, ax)


def probability_figure(exp: UtteranceExplanation, ax: Axes | None = None) -> Figure | Axes:
    """Bars of the probabilities, with the decision thresholds as ticks."""
    fig, ax = _canvas(ax, (6.0, 0.35 * len(exp.emotions) + 1.2))
    probs = [exp.probabilities[e] for e in exp.emotions]
    colours = ["tab:blue" if e in exp.predicted else "lightsteelblue" for e in exp.emotions]
    ax.barh(range(len(probs)), probs, color=colours)
    if exp.thresholds:
        limits = [exp.thresholds[e] for e in exp.emotions]
        ax.plot(limits, range(len(limits)), "|", color="black", markersize=14, label="threshold")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_yticks(range(len(probs)), exp.emotions)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    ax.set_title("Prediction (dark = decided)")
    return _finished(fig, ax)


def _canvas(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure | None, Axes]:
    """(None, `ax`) to draw on a given Axes, or (a new Figure of `size`, its one Axes)."""
    if ax is not None:
        return None, ax
    fig = Figure(figsize=size)
    return fig, fig.add_subplot()


def _finished(fig: Figure | None, ax: Axes) -> Figure | Axes:
    """The Figure this function made (laid out tightly), or the Axes it was given."""
    if fig is None:
        return ax
    fig.tight_layout()
    return fig


def _with_energy(
    exp: UtteranceExplanation, ax: Axes | None, size: tuple[float, float], ratio: float
) -> tuple[Figure | None, Axes | None, Axes]:
    """(Figure, energy Axes, map Axes): a new Figure with the recording's energy above the time
    map (`ratio`: the map's height against the energy's), or (None, None, `ax`)."""
    if ax is not None:
        return None, None, ax
    fig = Figure(figsize=size, layout="constrained")
    energy, ax = fig.subplots(2, 1, sharex=True, height_ratios=[1, ratio])
    _draw_energy(energy, exp)
    return fig, energy, ax


def _time_edges(frame_times: np.ndarray) -> np.ndarray:
    """F+1 edges from (F, 2) frame spans (pooled frames are contiguous)."""
    return np.append(frame_times[:, 0], frame_times[-1, 1])


def _draw_energy(ax, exp: UtteranceExplanation) -> None:
    """The RMS envelope of the recording, or a note when it is not known."""
    if exp.envelope is not None and len(exp.envelope) > 1:
        times = (np.arange(len(exp.envelope)) + 0.5) * ENVELOPE_HOP_S
        ax.fill_between(times, exp.envelope, color="grey")
        ax.set_ylabel("energy")
    else:
        ax.text(
            0.5,
            0.5,
            "recording not available: no energy curve",
            ha="center",
            va="center",
            transform=ax.transAxes,
            color="grey",
        )
    ax.set_yticks([])


def _annotate(ax, values: np.ndarray, signed: bool = False) -> None:
    """Each cell's value, in a colour that reads on it (viridis: dark cells; RdBu: pale ones)."""
    limit = (np.abs(values).max() if signed else values.max()) * 0.6 if values.size else 0
    for (row, col), value in np.ndenumerate(values):
        if signed:
            colour = "white" if abs(value) > limit else "black"
        else:
            colour = "black" if value > limit else "white"
        ax.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=7, color=colour)


def _mark_rationale(ax, exp: UtteranceExplanation) -> bool:
    """Colour the words of a human rationale (`metadata["rationale"]`, one flag per word, as
    the demo corpus gives); False when the utterance has none."""
    marks = exp.metadata.get("rationale")
    if not isinstance(marks, list) or len(marks) != len(exp.words) or not any(marks):
        return False
    for label, marked in zip(ax.get_xticklabels(), marks):
        if marked:
            label.set_color("tab:purple")
            label.set_fontweight("bold")
    return True


def _mark_predicted(ax, exp: UtteranceExplanation) -> None:
    for row, emotion in enumerate(exp.emotions):
        if emotion in exp.predicted:
            ax.get_yticklabels()[row].set_fontweight("bold")
