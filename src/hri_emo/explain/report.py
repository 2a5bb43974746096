"""`write_report`: PNG figures, a JSON of the raw maps and one self-contained HTML report.

    from hri_emo.explain import summarize, write_report
    html = write_report(explanations, "out/", summary=summarize(explanations), title="Demo")

The HTML embeds every figure as a base64 PNG and inline CSS: it opens offline from disk and
fetches nothing.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from hri_emo.errors import DataError
from hri_emo.explain.figures import figures_for
from hri_emo.explain.summary import summary_figures
from hri_emo.result import UtteranceExplanation, _json_float

REPORT_NAME = "report.html"
MAPS_NAME = "explanations.json"
SUMMARY_NAME = "summary.json"
DPI = 110

FIGURE_CAPTIONS = {
    "attribution": "Which words drove each emotion: each row is one emotion's attention over "
    "the words (sums to 1). The label gives the probability, the decision threshold and * when "
    "the emotion was predicted.",
    "frame_attribution": "Which stretches of audio drove each emotion (attention rolled out "
    "through the alignment), under the recording's energy.",
    "alignment": "Which audio frames each word attended to (last fusion layer), on the same time "
    "axis as the energy. A white dot marks each word's peak; red bars, when shown, the spoken "
    "span of the word.",
    "beta": "How much each word's fused state took from audio (1) rather than text (0): mean "
    "over hidden dimensions with its spread, and the distribution over dimensions.",
    "beta_over_time": "Each word's beta (orange) over the time it was spoken and, for models "
    "that judge it, how clean each audio frame was (green): where the voice is noisy, the words "
    "spoken over it turn to the text.",
    "probabilities": "Probabilities with the decision thresholds.",
}
# hriemo-v2's exact maps (attribution_method "contribution") read differently
CONTRIBUTION_CAPTIONS = {
    "attribution": "What each word added to (red) or took from (blue) each emotion's logit: "
    "exact parts of the model's computation, which with the audio frames and a bias add up to "
    "the logit. The label gives the probability, the decision threshold and * when predicted.",
    "frame_attribution": "What each stretch of audio added to (red) or took from (blue) each "
    "emotion's logit, through the words that listened to it, under the recording's energy.",
}
# single-label models (result.py `logits_centred`): what the logit-unit maps are read against
CENTRED_CAPTION = (
    " Values are read against the other emotions: each emotion's value minus the "
    "probability-weighted mean of all emotions' values at that place, so what raises every "
    "emotion alike (and changes no probability) shows as 0."
)
# word erasure (inference/erasure.py): the word map is measured, the frame map stays exact
ERASURE_CAPTIONS = {
    **CONTRIBUTION_CAPTIONS,
    "attribution": "What removing each word from the transcript does to each emotion's logit "
    "(the rest encoded again, same recording): red words raised the emotion, blue ones lowered "
    "it. A measurement of the model, not a part of its computation. The label gives the "
    "probability, the decision threshold and * when predicted.",
}

CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
.utterance{border:1px solid #ddd;border-radius:6px;padding:1em;margin:1.5em 0}
.note{background:#fff6d9;border-left:4px solid #e0b000;padding:.4em .8em;margin:.4em 0}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em}
th{background:#f3f3f3}.predicted{font-weight:bold}figure{margin:1em 0}
figcaption{color:#555;font-size:.9em}img{max-width:100%}
.grid{display:flex;flex-wrap:wrap;gap:1em}.grid figure{flex:1 1 45%;margin:0}
"""


def write_report(
    explanations: Sequence[UtteranceExplanation],
    out_dir: str | Path,
    summary: dict[str, Any] | None = None,
    title: str = "HRI-EMO explanations",
) -> Path:
    """Write the figures, maps and HTML report of `explanations` into `out_dir`.

    `summary`: the dict of `hri_emo.explain.summarize(...)` for a corpus-level section (None
    for none). Writes `out_dir/figures/<utterance>_<figure>.png`, `out_dir/explanations.json`
    (every map, `UtteranceExplanation.to_dict()` per utterance), `out_dir/summary.json` when a
    summary is given, and `out_dir/report.html`; returns the path of the HTML report.
    A folder that cannot be written raises DataError naming the path.
    """
    out_dir = Path(out_dir)
    figures_dir = out_dir / "figures"
    _make_dir(figures_dir)
    sections = []
    if summary is not None:
        _write(out_dir / SUMMARY_NAME, json.dumps(_json_float(summary), indent=1))
        sections.append(_summary_section(summary, figures_dir))
    names = _unique_names(explanations)
    for name, exp in zip(names, explanations):
        sections.append(_utterance_section(exp, name, figures_dir))
    maps = [exp.to_dict() for exp in explanations]
    _write(out_dir / MAPS_NAME, json.dumps(maps))
    page = _page(title, sections, len(explanations))
    return _write(out_dir / REPORT_NAME, page)


def _utterance_section(exp: UtteranceExplanation, name: str, figures_dir: Path) -> str:
    heading = exp.utterance_id or name
    parts = [
        f'<section class="utterance" id="{html.escape(name)}">',
        f"<h2>{html.escape(heading)}</h2>",
    ]
    if exp.transcript or exp.words:
        source = f" ({exp.transcript_source})" if exp.transcript_source else ""
        text = exp.transcript or " ".join(exp.words)
        parts.append(f"<p><b>Transcript{source}:</b> {html.escape(text)}</p>")
    if exp.duration_s is not None:
        parts.append(f"<p><b>Recording:</b> {exp.duration_s:.2f} s</p>")
    facts = [f"<b>Predicted:</b> {html.escape(', '.join(exp.predicted) or 'none')}"]
    if exp.true_labels is not None:
        facts.append(f"<b>True:</b> {html.escape(', '.join(exp.true_labels) or 'none')}")
    if exp.beta_mean is not None:
        facts.append(f"<b>beta</b> (audio trust): {exp.beta_mean:.3f}")
    if exp.transcript_reliability is not None:
        trust = exp.transcript_reliability
        facts.append(f"<b>transcript reliability</b> (word rate, aligner): {trust:.2f}")
    if exp.logit_sources and exp.predicted:
        emotion = exp.predicted[0]
        facts.append(f"<b>{html.escape(exp.logit_label(emotion))}</b>: {exp.logit_split(emotion)}")
    parts.append("<p>" + " &nbsp; ".join(facts) + "</p>")
    parts.append(_prediction_table(exp))
    parts += [f'<p class="note">{html.escape(note)}</p>' for note in exp.notes]
    captions = FIGURE_CAPTIONS
    if exp.attribution_method == "contribution":
        captions = {**FIGURE_CAPTIONS, **CONTRIBUTION_CAPTIONS}
    elif exp.attribution_method == "erasure":
        captions = {**FIGURE_CAPTIONS, **ERASURE_CAPTIONS}
    if exp.logits_centred and exp.attribution_method in ("contribution", "erasure"):
        captions = {k: v + (CENTRED_CAPTION if k in CONTRIBUTION_CAPTIONS else "")
                    for k, v in captions.items()}  # fmt: skip
    for kind, fig in figures_for(exp).items():
        parts.append(_figure(fig, figures_dir / f"{name}_{kind}.png", captions[kind]))
    parts.append("</section>")
    return "\n".join(parts)


def _prediction_table(exp: UtteranceExplanation) -> str:
    header = "<tr><th>emotion</th><th>probability</th>"
    header += "<th>threshold</th>" if exp.thresholds else ""
    header += "<th>top words</th></tr>" if exp.attribution is not None else "</tr>"
    rows = [header]
    for emotion in exp.emotions:
        cls = ' class="predicted"' if emotion in exp.predicted else ""
        cells = [html.escape(emotion), f"{exp.probabilities[emotion]:.3f}"]
        if exp.thresholds:
            cells.append(f"{exp.thresholds[emotion]:.3f}")
        if exp.attribution is not None:
            top = exp.top_words(emotion, 3)
            cells.append(html.escape(", ".join(f"{w} ({a:.2f})" for w, a in top)))
        rows.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _summary_section(summary: dict[str, Any], figures_dir: Path) -> str:
    parts = [
        '<section id="summary">',
        "<h2>Corpus summary</h2>",
        f"<p>{summary.get('utterances', 0)} utterances.</p>",
    ]
    for key, label in (("beta_by_true_label", "true label"), ("beta_by_predicted", "predicted")):
        if summary.get(key):
            parts.append(_stats_table(summary[key], label))
    for column, groups in summary.get("beta_by_group", {}).items():
        if groups:
            parts.append(_stats_table(groups, column))
    if summary.get("top_words"):
        rows = [
            "<tr><th>emotion</th><th>words that raise it more than the other emotions "
            "(selectivity, occurrences)</th></tr>"
        ]
        for emotion, words in summary["top_words"].items():
            listed = ", ".join(f"{w} ({score:+.2f}, {n})" for w, n, score in words)
            rows.append(f"<tr><td>{html.escape(emotion)}</td><td>{html.escape(listed)}</td></tr>")
        parts.append("<table>" + "".join(rows) + "</table>")
    figures = summary_figures(summary)
    words = figures.pop("top_words", None)
    parts.append('<div class="grid">')
    for kind, fig in figures.items():
        parts.append(_figure(fig, figures_dir / f"summary_{kind}.png", ""))
    parts.append("</div>")
    if words is not None:  # full width: one panel per emotion
        parts.append(_figure(words, figures_dir / "summary_top_words.png", ""))
    parts.append("</section>")
    return "\n".join(parts)


def _stats_table(groups: dict[str, dict[str, Any]], label: str) -> str:
    rows = [
        f"<tr><th>{html.escape(label)}</th><th>n</th><th>mean beta</th><th>std</th>"
        "<th>median [q1, q3]</th></tr>"
    ]
    for name, s in groups.items():
        rows.append(
            f"<tr><td>{html.escape(str(name))}</td><td>{s['n']}</td><td>{s['mean']:.3f}</td>"
            f"<td>{s['std']:.3f}</td><td>{s['median']:.3f} [{s['q1']:.3f}, {s['q3']:.3f}]</td></tr>"
        )
    return "<table>" + "".join(rows) + "</table>"


def _figure(fig: Figure, path: Path, caption: str) -> str:
    """Save `fig` as PNG at `path` and return it as an embedded <figure>."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    data = buffer.getvalue()
    _write(path, data)
    encoded = base64.b64encode(data).decode("ascii")
    alt = html.escape(path.stem)
    caption_html = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{alt}" src="data:image/png;base64,{encoded}">{caption_html}</figure>'


def _page(title: str, sections: list[str], count: int) -> str:
    body = "\n".join(sections) or "<p>No utterances.</p>"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{count} utterance(s). Contribution maps (red raises an "
        "emotion's logit, blue lowers it) are the model's exact computation on its input "
        "features; attention maps show where a model looked, not a proof of why. See "
        f"docs/explanations.md for how far each map can be trusted.</p>\n{body}\n</body></html>\n"
    )


def _unique_names(explanations: Sequence[UtteranceExplanation]) -> list[str]:
    """File-safe, unique names per utterance (its id, else utterance-<i>)."""
    names, seen = [], set()
    for i, exp in enumerate(explanations):
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", exp.utterance_id or f"utterance-{i}")[:80]
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}-{n}"
        seen.add(name)
        names.append(name)
    return names


def _make_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"cannot create the output folder {path}: {err.strerror or err}") from err


def _write(path: Path, content: str | bytes) -> Path:
    try:
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    except OSError as err:
        raise DataError(f"cannot write {path}: {err.strerror or err}") from err
    return path
