"""The utterance segmenter on eSpeak NG speech with known spans, and its two VAD backends."""

from __future__ import annotations

import numpy as np
import pytest

from hri_emo.errors import ConfigError
from hri_emo.inference.vad import create_vad
from hri_emo.serve.segmenter import (
    SegmenterConfig,
    SpeechSegment,
    SpeechStarted,
    UtteranceSegmenter,
)


@pytest.fixture(scope="module")
def track(stream_wav):
    from hri_emo.encoders import load_audio

    path, spans = stream_wav
    return (load_audio(path) * 32767).astype(np.int16), spans


@pytest.mark.parametrize("vad", ["silero", "webrtc"])
def test_each_utterance_found_once_near_its_span(track, vad):
    pcm, spans = track
    segmenter = UtteranceSegmenter(create_vad(vad), SegmenterConfig())
    events = []
    for start in range(0, len(pcm), 320):  # 20 ms pushes, as a client sends them
        events += segmenter.push(pcm[start : start + 320])
    found = [e for e in events if isinstance(e, SpeechSegment)]
    assert len(found) == len(spans)
    assert sum(isinstance(e, SpeechStarted) for e in events) == len(spans)
    for utterance, (start, end) in zip(found, spans):
        assert utterance.start_s == pytest.approx(start, abs=0.35)
        assert utterance.end_s == pytest.approx(end, abs=0.35)
        assert utterance.duration_s == pytest.approx(utterance.end_s - utterance.start_s)


def test_silence_opens_nothing():
    segmenter = UtteranceSegmenter(create_vad("silero"), SegmenterConfig())
    assert segmenter.push(np.zeros(16000 * 3, np.int16)) == []
    assert segmenter.end_utterance() is None and segmenter.stream_s == pytest.approx(3.0)


def test_client_segmentation_and_the_length_cap():
    config = SegmenterConfig(segmentation="client", max_utterance_s=1.0)
    segmenter = UtteranceSegmenter(None, config)
    events = segmenter.push(np.ones(int(16000 * 2.5), np.int16))
    cut = [e for e in events if isinstance(e, SpeechSegment)]
    assert [u.reason for u in cut] == ["max_length", "max_length"]
    assert [u.start_s for u in cut] == pytest.approx([0.0, 1.0], abs=0.03)
    last = segmenter.end_utterance()
    assert last.reason == "end_mark" and last.end_s == pytest.approx(2.5, abs=0.03)


def test_bad_configuration():
    with pytest.raises(ConfigError, match="segmentation"):
        UtteranceSegmenter(None, SegmenterConfig(segmentation="magic"))
    with pytest.raises(ConfigError, match="detector"):
        UtteranceSegmenter(None, SegmenterConfig())
    with pytest.raises(ConfigError, match="unknown vad"):
        create_vad("energy")
