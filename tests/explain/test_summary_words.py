"""The corpus summary's words per emotion: ranked by how much more they raise that emotion than
the others over every occurrence, so a word the model lets raise everything does not lead."""

from __future__ import annotations

import numpy as np
from tests.explain.test_plausibility import _explanation

from hri_emo.explain import summarize


def _explained(words, happy, sad, predicted):
    return _explanation(words, [happy, sad], predicted=predicted)


def test_words_that_raise_every_emotion_alike_do_not_lead():
    # "i" and "am" get the largest attribution everywhere, to both emotions alike; "glad" and
    # "lonely" are smaller but raise one emotion only. A frequency or size ranking puts "i" first.
    exps = [
        _explained(["I", "am", "glad!"], [2.0, 1.9, 1.0], [2.0, 1.9, -0.5], "happy"),
        _explained(["i", "am", "glad"], [2.1, 1.8, 0.8], [2.1, 1.8, -0.3], "happy"),
        _explained(["I", "am", "lonely"], [2.0, 1.9, -0.4], [2.0, 1.9, 1.2], "sad"),
        _explained(["I", "am", "lonely"], [1.9, 2.0, -0.2], [1.9, 2.0, 0.9], "sad"),
        _explained(["so", "odd"], [0.0, 5.0], [0.0, 0.0], "happy"),  # "odd": seen once
    ]
    top = summarize(exps)["top_words"]
    assert top["happy"][0][:2] == ["glad", 2]
    assert top["sad"][0][:2] == ["lonely", 2]
    assert np.isclose(top["happy"][0][2], np.mean([1.5, 1.1]))
    listed = {w for rows in top.values() for w, _, _ in rows}
    assert not listed & {"i", "am", "so", "odd"}  # no selectivity, or seen once


def test_the_attribution_figure_colours_the_words_a_person_marked():
    from matplotlib.colors import to_hex

    from hri_emo.explain.figures import attribution_figure

    exp = _explained(["I", "am", "glad"], [0.1, 0.2, 1.0], [0.1, 0.1, -0.5], "happy")
    plain = attribution_figure(exp)
    exp.metadata["rationale"] = [False, False, True]
    marked = attribution_figure(exp)
    colours = [to_hex(t.get_color()) for t in marked.axes[0].get_xticklabels()]
    assert colours[2] == to_hex("tab:purple") and colours[0] != colours[2]
    assert "a person marked" in marked.axes[0].get_title()
    assert "marked" not in plain.axes[0].get_title()
