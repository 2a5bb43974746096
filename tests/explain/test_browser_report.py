"""The HTML report in real headless Chromium, opened from disk with every network request
refused: the figures must load from the page itself, and a screenshot is taken."""

from __future__ import annotations

import os
import shutil

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def test_report_renders_offline(chromium_path, key_word_run, tmp_path):
    from playwright.sync_api import sync_playwright

    from hri_emo.explain import explain_corpus, summarize, write_report

    exps = explain_corpus(key_word_run.run_dir, "test")
    report = write_report(exps[:3], tmp_path / "report", summary=summarize(exps), title="Key words")
    fetched: list[str] = []

    def refuse_network(route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            fetched.append(url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.route("**/*", refuse_network)
            page.goto(report.as_uri())
            page.wait_for_load_state("load")
            sizes = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
            sections = page.locator("section.utterance").count()
            text = page.inner_text("body")
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert fetched == []
    assert len(sizes) >= 3 * 4 and all(width > 100 for width in sizes), sizes
    assert sections == 3 and "Corpus summary" in text and exps[0].utterance_id in text
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("HRI_EMO_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
