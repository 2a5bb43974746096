"""The live page in real headless Chromium (Debian's), its microphone faked from a wav file:
the page streams to /v1/stream and an utterance's result, with its heatmaps, appears."""

from __future__ import annotations

import os
import shutil

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


@pytest.fixture
def page(chromium_path, stream_wav):
    """The system Chromium, launched by Playwright with a fake microphone playing the
    two-utterance wav (looped). Playwright is started and stopped within the test: the
    session-wide `page` fixture of pytest-playwright keeps an event loop running in the main
    thread for the rest of the session, which breaks every later `asyncio.run`."""
    from playwright.sync_api import sync_playwright

    wav, _ = stream_wav
    args = [
        "--no-sandbox",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=args)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_live_page_shows_an_utterance_result(server, page, sentences, tmp_path):
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(server.url + "/")
    page.fill("#transcript", sentences["happy"])
    page.check("#erasure")  # the word map by erasure (the start message asks for it)
    page.click("#start")
    page.wait_for_selector(".status.live", timeout=30_000)
    page.click("#send-text")
    card = page.wait_for_selector(".utterance", timeout=60_000)
    assert card is not None, console
    text = card.inner_text()
    assert "utterance 0" in text and "beta" in text and "word map: erasure" in text
    assert page.locator("#bars .bar").count() == 6  # one bar per emotion of the model
    heatmaps = page.locator(".utterance").first.locator("canvas.heatmap")
    assert heatmaps.count() >= 1
    assert int(heatmaps.first.get_attribute("data-cols")) > 0
    # signed logit maps on a diverging scale around 0, the alignment's weights on a sequential one
    scales = [heatmaps.nth(k).get_attribute("data-scale") for k in range(heatmaps.count())]
    assert scales[0] == "diverging" and scales[-1] == "sequential", scales
    shot = tmp_path / "live_page.png"
    page.screenshot(path=str(shot), full_page=True)
    keep = os.environ.get("HRI_EMO_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
