"""A session over a real uvicorn server with a model that reads the voice of past turns: the
recording sent with a turn is what the next turn of the session reads, as a local Dialogue."""

from __future__ import annotations

import io

import httpx
import pytest
import soundfile as sf
from tests.serve.conftest import LiveServer

from hri_emo.synth import synthesize

pytestmark = pytest.mark.timeout(120)
SAID, REPLY = "we won the final", "okay"


@pytest.fixture(scope="module")
def recognizer(audio_context_model_dir):
    from hri_emo.inference import EmotionRecognizer

    return EmotionRecognizer.from_pretrained(audio_context_model_dir, asr="none")


@pytest.fixture(scope="module")
def live(recognizer):
    from hri_emo.serve.settings import ServeSettings

    server = LiveServer(ServeSettings(asr="none"), recognizer).start()
    yield server
    server.stop()


def wav_bytes(wave, rate=16000) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, wave, rate, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


def send_recording(url: str, wave, session: str, **form) -> dict:
    """One session turn sent as a WAV (plus form fields such as its text): the result."""
    sent = httpx.post(
        f"{url}/v1/predict",
        files={"audio": ("turn.wav", wav_bytes(wave), "audio/wav")},
        data={"session": session, **form},
        timeout=60,
    )
    assert sent.status_code == 200, sent.text
    return sent.json()["result"]


def test_a_session_reads_the_voice_of_its_past_turn(live, recognizer):
    wave = synthesize(SAID).resampled(16000).wave
    session = httpx.post(f"{live.url}/v1/sessions").json()["session"]
    send_recording(live.url, wave, session, text=SAID)
    reply = httpx.post(
        f"{live.url}/v1/predict", json={"text": REPLY, "session": session}, timeout=60
    ).json()["result"]
    assert reply["context_turns"] == ["turn-0"]
    dialogue = recognizer.dialogue()  # the same two turns, locally
    dialogue.classify(wave=wave, text=SAID)
    local = dialogue.classify(text=REPLY)
    assert reply["probabilities"] == pytest.approx(local.probabilities, abs=1e-5)
    words_only = recognizer.dialogue()
    words_only.classify(text=SAID)
    assert local.probabilities != words_only.classify(text=REPLY).probabilities


def test_a_turn_sent_as_a_recording_alone_is_read_from_its_voice(live, recognizer):
    """No transcript and no ASR (a laugh, a sigh): the next turn still reads that turn."""
    wave = synthesize(SAID).resampled(16000).wave
    session = httpx.post(f"{live.url}/v1/sessions").json()["session"]
    first = send_recording(live.url, wave, session)
    assert any("from its voice" in note for note in first["notes"])
    reply = httpx.post(
        f"{live.url}/v1/predict", json={"text": REPLY, "session": session}, timeout=60
    ).json()["result"]
    assert reply["context_turns"] == ["turn-0"]
    dialogue = recognizer.dialogue()
    dialogue.classify(wave=wave)
    local = dialogue.classify(text=REPLY)
    assert reply["probabilities"] == pytest.approx(local.probabilities, abs=1e-5)
