"""No speech and no transcript over HTTP, on a server without ASR (issue 21): refused with 422
unusable_input; beside a transcript the recording is ignored with a note; speech is answered."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
import soundfile as sf

from hri_emo.synth import synthesize

pytestmark = pytest.mark.timeout(120)


def wav(wave: np.ndarray, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, wave, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


NOISE = np.random.default_rng(0).uniform(-0.3, 0.3, 32000).astype(np.float32)


@pytest.fixture(scope="module")
def speech_wav() -> bytes:
    spoken = synthesize("I am so happy to see you again today")
    return wav(spoken.wave, spoken.sample_rate)


def test_no_speech_over_http(make_server, speech_wav):
    server = make_server(asr="none")
    url = f"{server.url}/v1/predict"
    refused = httpx.post(url, files={"audio": ("noise.wav", wav(NOISE))}, timeout=60)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "unusable_input" and "holds no speech" in error["message"], error
    noted = httpx.post(url, files={"audio": ("noise.wav", wav(NOISE))},
                       data={"text": "I am so happy"}, timeout=60)  # fmt: skip
    assert noted.status_code == 200, noted.text
    result = noted.json()["result"]
    assert any("holds no speech" in n for n in result["notes"]) and result["duration_s"] is None
    answered = httpx.post(url, files={"audio": ("speech.wav", speech_wav)}, timeout=60)
    assert answered.status_code == 200, answered.text
    result = answered.json()["result"]
    assert result["duration_s"] > 1.5 and not any("no speech" in n for n in result["notes"])
