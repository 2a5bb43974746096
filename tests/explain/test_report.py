"""write_report: PNG figures, the JSON maps and one self-contained HTML page, for inputs with
both modalities, audio only, text only and a baseline without alignment; corpus summaries."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import numpy as np
import pytest
import torch

from hri_emo.errors import DataError
from hri_emo.explain import UtteranceExplanation, summarize, write_report
from hri_emo.inference import EmotionRecognizer
from hri_emo.model import create_model
from hri_emo.result import waveform_envelope

DIM = 16
WORDS = ["i", "am", "so", "happy", "today"]
TIMES = np.stack([np.arange(20) * 0.05, np.arange(1, 21) * 0.05], axis=1)


class Page(HTMLParser):
    """Collects tags, image sources, links and the visible text of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.images, self.links, self.text, self.tags = [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "img":
            self.images.append(attrs["src"])
        for key in ("href", "src"):
            if key in attrs and tag != "img":
                self.links.append(attrs[key])

    def handle_data(self, data):
        self.text.append(data)


def parse(path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def explanations(preset: str = "hriemo-v2") -> list[UtteranceExplanation]:
    torch.manual_seed(0)
    model = create_model(preset, text_dim=DIM, audio_dim=DIM, hidden_dim=16, num_heads=2)
    rec = EmotionRecognizer(model, thresholds=[0.5] * 6)
    rng = np.random.default_rng(0)
    text = rng.normal(size=(len(WORDS), DIM)).astype(np.float32)
    audio = rng.normal(size=(len(TIMES), DIM)).astype(np.float32)
    both = rec.classify_features(text, audio, words=WORDS, frame_times=TIMES)
    both.utterance_id, both.true_labels = "both/1", ["happy"]
    both.envelope = waveform_envelope(rng.normal(size=16000).astype(np.float32))
    both.word_times = [(0.2 * i, 0.2 * i + 0.15) for i in range(len(WORDS))]
    audio_only = rec.classify_features(audio_features=audio, frame_times=TIMES)
    text_only = rec.classify_features(text, words=WORDS)
    return [both, audio_only, text_only]


def test_report_is_self_contained_and_holds_figures_words_and_numbers(tmp_path):
    exps = explanations()
    report = write_report(exps, tmp_path / "out", title="Three inputs")
    page = parse(report)
    text = " ".join(page.text)
    assert report.name == "report.html" and "Three inputs" in text
    assert page.links == []  # nothing to fetch: no scripts, stylesheets or links
    assert page.images and all(src.startswith("data:image/png;base64,") for src in page.images)
    # both: attribution, frame attribution, alignment, beta, beta over time (it has word
    # times), probabilities; audio only: frame attribution, probabilities; text only:
    # attribution, beta, probabilities
    assert len(page.images) == 6 + 2 + 3
    assert all(word in text for word in WORDS)
    assert f"{exps[0].probabilities['happy']:.3f}" in text
    assert "No transcript" in text and "No audio" in text  # what is missing, in a sentence
    pngs = sorted(p.name for p in (tmp_path / "out" / "figures").glob("*.png"))
    assert "both_1_alignment.png" in pngs and "utterance-1_frame_attribution.png" in pngs
    maps = json.loads((tmp_path / "out" / "explanations.json").read_text())
    restored = UtteranceExplanation.from_dict(maps[0])
    np.testing.assert_allclose(restored.alignment, exps[0].alignment)
    assert restored.word_times == exps[0].word_times


def test_a_baseline_gets_the_figures_it_can_give_and_a_note(tmp_path):
    exp = explanations("late-fusion")[0]
    page = parse(write_report([exp], tmp_path))
    text = " ".join(page.text)
    assert "gives no alignment map" in text or "gives no attribution map" in text
    assert len(page.images) >= 1  # at least the probabilities


def test_summary_section_and_json(tmp_path):
    exps = explanations()
    for exp, speaker in zip(exps, ["a", "a", "b"]):
        exp.metadata["speaker"] = speaker
        exp.true_labels = exp.true_labels or ["sad"]
    summary = summarize(exps, group_by=["speaker"])
    assert summary["utterances"] == 3
    assert summary["beta_by_group"]["speaker"]["a"]["n"] == 2
    assert set(summary["beta_by_true_label"]) == {"happy", "sad"}
    report = write_report(exps, tmp_path, summary=summary)
    text = " ".join(parse(report).text)
    assert "Corpus summary" in text and "speaker" in text
    assert json.loads((tmp_path / "summary.json").read_text())["utterances"] == 3


def test_an_unwritable_output_folder_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DataError, match=str(blocker)):
        write_report(explanations()[:1], blocker / "out")
