"""Figure functions draw onto a given Axes (scikit-learn's Display pattern) or make a Figure."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from hri_emo.explain import UtteranceExplanation
from hri_emo.explain.figures import (
    alignment_figure,
    attribution_figure,
    beta_figure,
    beta_over_time_figure,
    probability_figure,
)

WORDS = ["I", "am", "glad"]


def _explained() -> UtteranceExplanation:
    frames = np.stack([np.arange(4) * 0.5, np.arange(4) * 0.5 + 0.5], axis=1)  # (F, 2) s
    alignment = np.asarray([[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.1, 0.1, 0.1, 0.7]])
    return UtteranceExplanation(
        emotions=["happy", "sad"],
        task="singlelabel",
        probabilities={"happy": 0.8, "sad": 0.2},
        predicted=["happy"],
        words=WORDS,
        attribution=np.asarray([[0.1, 0.2, 0.7], [0.4, 0.4, 0.2]]),
        alignment=alignment,
        frame_times=frames,
        beta_per_word=np.asarray([0.2, 0.5, 0.9]),
        beta_std_per_word=np.asarray([0.1, 0.1, 0.1]),
        beta_mean=0.53,
        beta_per_dim=np.linspace(0, 1, 8),
    )


def test_two_figures_compose_on_one_figures_subplots():
    exp = _explained()
    fig = Figure(figsize=(12, 4))
    words, probs = fig.subplots(1, 2)
    assert attribution_figure(exp, ax=words) is words
    assert probability_figure(exp, ax=probs) is probs
    assert [t.get_text() for t in words.get_xticklabels()] == WORDS
    assert words.images[0].get_array().shape == (2, 3)  # emotions x words, drawn here
    assert len(probs.patches) == 2  # one bar per emotion
    assert {words, probs} <= set(fig.axes) and len(fig.axes) == 3  # + the heatmap's colour bar


def test_a_time_map_on_a_given_axes_leaves_out_the_energy_panel():
    exp = _explained()
    fig = Figure()
    ax = fig.add_subplot()
    assert alignment_figure(exp, ax=ax) is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == WORDS
    assert "Alignment" in ax.get_title()
    assert len(fig.axes) == 2  # the map and its colour bar, no energy panel
    own = alignment_figure(exp)
    assert isinstance(own, Figure) and len(own.axes) == 3  # energy, map, colour bar


def test_without_an_axes_each_function_makes_its_figure_as_before():
    exp = _explained()
    assert isinstance(attribution_figure(exp), Figure)
    assert len(beta_figure(exp).axes) == 2  # bars and the histogram over dimensions
    ax = Figure().add_subplot()
    assert beta_figure(exp, ax=ax) is ax and len(ax.patches) == 3  # the bars only
    exp.attribution = None
    assert attribution_figure(exp, ax=ax) is None  # nothing to draw: None, as without ax


def test_beta_over_time_puts_each_word_at_its_spoken_span():
    exp = _explained()
    assert beta_over_time_figure(exp) is None  # no word times: nothing to place
    exp.word_times = [(0.0, 0.4), None, (1.2, 1.8)]  # "am" could not be placed
    exp.audio_reliability = np.asarray([1.0, 0.9, 0.2, 0.1])
    ax = Figure().add_subplot()
    assert beta_over_time_figure(exp, ax=ax) is ax
    segments = ax.collections  # one horizontal segment per placed word
    placed = [seg.get_segments()[0] for seg in segments]
    assert len(placed) == 2
    np.testing.assert_allclose(placed[1], [[1.2, 0.9], [1.8, 0.9]])  # "glad" at its span
    assert [t.get_text() for t in ax.texts] == ["I", "glad"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), exp.audio_reliability)
