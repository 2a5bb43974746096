"""POST /v1/predict, health, model info and the OpenAPI schema against a real server."""

from __future__ import annotations

import base64
import json
from dataclasses import fields

import httpx
import numpy as np
import pytest
import soundfile as sf

from hri_emo.result import ARRAY_FIELDS, UtteranceExplanation
from hri_emo.serve.schemas import ExplanationBody

pytestmark = pytest.mark.timeout(120)


def pcm16(wave: np.ndarray) -> bytes:
    return (np.clip(wave, -1, 1) * 32767).astype("<i2").tobytes()


def test_multipart_wav_and_text(server, speech, sentences):
    with speech["happy"].open("rb") as handle:
        files = {"audio": ("happy.wav", handle, "audio/wav")}
        response = httpx.post(
            f"{server.url}/v1/predict", files=files, data={"text": sentences["happy"]}, timeout=60
        )
    assert response.status_code == 200, response.text
    body = response.json()
    result = body["result"]
    assert set(result["probabilities"]) == set(result["emotions"])
    assert result["transcript"] == sentences["happy"] and result["transcript_source"] == "given"
    assert 0.0 <= result["beta_mean"] <= 1.0
    assert set(result["top_words"]) == set(result["emotions"])
    assert result["duration_s"] == pytest.approx(sf.info(str(speech["happy"])).duration, abs=0.01)
    assert {"text_encoder", "audio_encoder", "fusion_model"} <= set(result["timings_ms"])
    assert {"decode", "queue", "inference", "total"} <= set(body["server_timings_ms"])
    assert response.headers["x-request-id"] == body["request_id"]
    assert "alignment" not in result  # compact unless maps=true


def test_json_pcm_with_maps_matches_the_explanation_type(server, speech, sentences):
    from hri_emo.encoders import load_audio

    wave = load_audio(speech["table"])
    payload = {
        "audio_base64": base64.b64encode(pcm16(wave)).decode(),
        "sample_rate": 16000,
        "text": sentences["table"],
    }
    response = httpx.post(f"{server.url}/v1/predict?maps=true", json=payload, timeout=60)
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    explanation = UtteranceExplanation.from_dict(result)  # the answer is the one result type
    assert explanation.alignment.shape == (len(explanation.words), len(explanation.frame_times))
    assert explanation.attribution.shape == (len(explanation.emotions), len(explanation.words))
    documented = {f for f in ExplanationBody.model_fields}
    arrays = set(ARRAY_FIELDS)  # the maps, present with maps=true
    assert {f.name for f in fields(UtteranceExplanation)} - arrays <= documented


def test_word_times_from_the_callers_asr_in_json_and_in_a_form(server, speech, sentences):
    """The caller's word spans (e.g. from its own ASR) are used and reported back; the server
    then does not align the transcript (no alignment confidence to report)."""
    from hri_emo.encoders import load_audio
    from hri_emo.synth import synthesize

    spans = [
        [round(float(t), 3) for t in span] for span in synthesize(sentences["table"]).word_spans
    ]
    wave = load_audio(speech["table"])
    payload = {
        "audio_base64": base64.b64encode(pcm16(wave)).decode(),
        "sample_rate": 16000,
        "text": sentences["table"],
        "word_times": spans,
    }
    response = httpx.post(f"{server.url}/v1/predict", json=payload, timeout=60)
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["word_times"] == spans
    assert result["alignment_confidence"] is None
    without = httpx.post(
        f"{server.url}/v1/predict", json={**payload, "word_times": None}, timeout=60
    ).json()["result"]
    assert without["alignment_confidence"] > 0.3  # aligned by the server instead
    with speech["table"].open("rb") as handle:
        files = {"audio": ("table.wav", handle, "audio/wav")}
        form = {"text": sentences["table"], "word_times": json.dumps(spans)}
        response = httpx.post(f"{server.url}/v1/predict", files=files, data=form, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["word_times"] == spans


def test_json_wav_bytes_at_another_rate(server, speech, tmp_path):
    from hri_emo.encoders import load_audio

    wave = load_audio(speech["happy"])
    stereo_48k = tmp_path / "stereo.wav"
    resampled = np.interp(np.arange(0, len(wave), 1 / 3), np.arange(len(wave)), wave)
    sf.write(str(stereo_48k), np.stack([resampled, resampled], axis=1), 48000)
    payload = {
        "audio_base64": base64.b64encode(stereo_48k.read_bytes()).decode(),
        "encoding": "wav",
    }
    response = httpx.post(f"{server.url}/v1/predict", json=payload, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["duration_s"] == pytest.approx(len(wave) / 16000, abs=0.01)


def test_text_only(server):
    response = httpx.post(f"{server.url}/v1/predict", json={"text": "I am so sad"}, timeout=60)
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["duration_s"] is None and result["words"]


def test_audio_without_text_is_transcribed_unless_asr_is_off(server, make_server, speech):
    def post(live):
        with speech["table"].open("rb") as handle:
            files = {"audio": ("table.wav", handle, "audio/wav")}
            response = httpx.post(f"{live.url}/v1/predict", files=files, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()["result"]

    result = post(server)
    assert result["transcript_source"] == "asr" and "kitchen table" in result["transcript"]
    assert len(result["word_times"]) == len(result["words"]) and result["asr_confidence"] > 0.5
    assert httpx.get(f"{server.url}/v1/model").json()["asr"] == "auto"
    quiet = make_server(asr="none")
    result = post(quiet)
    assert result["transcript"] is None and result["words"] == []
    assert httpx.get(f"{quiet.url}/v1/model").json()["asr"] == "unavailable"


def test_health_ready_and_model_info(server, recognizer):
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server.url}/readyz").json() == {"status": "ready"}
    info = httpx.get(f"{server.url}/v1/model").json()
    assert info["emotions"] == recognizer.emotions and info["task"] == recognizer.task
    assert set(info["encoders"]) == {"text", "audio"} and "torch" in info["versions"]
    assert info["limits"]["max_body_bytes"] > 0 and info["vad"] == "silero"


def test_openapi_documents_the_routes(server):
    schema = httpx.get(f"{server.url}/openapi.json").json()
    assert {"/v1/predict", "/v1/model", "/healthz", "/readyz"} <= set(schema["paths"])
    body = schema["paths"]["/v1/predict"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(body)


def test_the_page_and_its_files_are_served(server):
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    for name in ("app.js", "heatmap.js", "capture-worklet.js", "style.css"):
        assert httpx.get(f"{server.url}/static/{name}").status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text


def test_request_id_is_echoed_and_access_logged(server, caplog):
    caplog.set_level("INFO", logger="hri_emo.serve.access")
    response = httpx.get(f"{server.url}/v1/model", headers={"X-Request-ID": "robot-0001-abcd"})
    assert response.headers["x-request-id"] == "robot-0001-abcd"
    lines = [r.getMessage() for r in caplog.records if "robot-0001-abcd" in r.getMessage()]
    assert lines and '"latency_ms"' in lines[0] and '"status": 200' in lines[0]


def test_cors_is_closed_by_default(server):
    response = httpx.options(
        f"{server.url}/v1/predict",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers
    response = httpx.get(f"{server.url}/healthz", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_origin_when_configured(make_server):
    live = make_server(cors_origins=["http://robot.local"])
    response = httpx.options(
        f"{live.url}/v1/predict",
        headers={"Origin": "http://robot.local", "Access-Control-Request-Method": "POST"},
    )
    assert response.headers["access-control-allow-origin"] == "http://robot.local"


def test_word_erasure_on_request_is_the_recognizers(server, recognizer, sentences):
    """?attribution=erasure answers with the word erasure map the recognizer gives locally; a map
    the server does not offer (Integrated Gradients: seconds per request) is a 422 naming it."""
    text = sentences["happy"]
    url = f"{server.url}/v1/predict"
    response = httpx.post(f"{url}?attribution=erasure&maps=true", json={"text": text}, timeout=60)
    assert response.status_code == 200, response.text
    result = UtteranceExplanation.from_dict(response.json()["result"])
    local = recognizer.classify(None, text, attribution="erasure")
    assert result.attribution_method == local.attribution_method == "erasure"
    np.testing.assert_allclose(result.attribution, local.attribution, atol=1e-5)
    assert any("erasure" in note for note in result.notes)
    default = httpx.post(url, json={"text": text}, timeout=60).json()["result"]
    assert default["attribution_method"] == "contribution"
    refused = httpx.post(f"{url}?attribution=integrated-gradients", json={"text": text}, timeout=60)
    assert refused.status_code == 422 and "attribution" in refused.text
