"""WS /v1/stream with a real websockets client: segmentation, marks, transcripts, limits."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
import websockets

from hri_emo.encoders import load_audio
from hri_emo.serve.client import StreamClient, pcm16_frames, read_wav, stream_wave
from hri_emo.synth import synthesize

pytestmark = pytest.mark.timeout(120)


def results(messages):
    return [m for m in messages if m["type"] == "result"]


def test_vad_segments_a_stream_into_its_utterances(server, stream_wav, sentences):
    path, spans = stream_wav
    wave, rate = read_wav(path)
    transcripts = [(spans[0][0], sentences["happy"]), (spans[1][0], sentences["table"])]
    messages = asyncio.run(
        stream_wave(server.ws_url, wave, rate, realtime=False, transcripts=transcripts, maps=True)
    )
    found = results(messages)
    assert len(found) == len(spans), [m["type"] for m in messages]
    for message, (start, end), text in zip(found, spans, sentences.values()):
        assert message["reason"] == "silence"
        assert message["start_s"] == pytest.approx(start, abs=0.35)
        assert message["end_s"] == pytest.approx(end, abs=0.35)
        result = message["result"]
        assert result["transcript"] == text and result["alignment"] is not None
        assert result["duration_s"] == pytest.approx(
            message["end_s"] - message["start_s"], abs=0.01
        )
    assert [m["type"] for m in messages].count("speech_start") == len(spans)
    assert messages[-1] == {**messages[-1], "type": "end", "utterances": len(spans)}


def test_48k_stream_and_explicit_end_marks(server, speech):
    wave = load_audio(speech["happy"])
    wave_48k = np.interp(np.arange(0, len(wave), 1 / 3), np.arange(len(wave)), wave)

    async def main():
        async with StreamClient(server.ws_url, 48000, segmentation="client") as client:
            assert client.ready["segmentation"] == "client" and client.ready["vad"] is None
            for _ in range(2):
                for frame in pcm16_frames(wave_48k, 48000):
                    await client.send_audio(frame)
                await client.send_transcript("hello robot")
                await client.end_utterance()
            await client.stop()
            return [m async for m in client.messages()]

    found = results(asyncio.run(main()))
    assert [m["reason"] for m in found] == ["end_mark", "end_mark"]
    duration = len(wave) / 16000
    assert found[0]["start_s"] == 0 and found[0]["end_s"] == pytest.approx(duration, abs=0.05)
    assert found[1]["start_s"] == pytest.approx(duration, abs=0.05)
    assert all(m["result"]["transcript"] == "hello robot" for m in found)


def test_text_only_end_mark_and_nothing_to_end(server):
    async def main():
        async with StreamClient(server.ws_url, 16000) as client:
            await client.end_utterance()
            await client.send_transcript("I am so happy")
            await client.end_utterance()
            await client.stop()
            return [m async for m in client.messages()]

    messages = asyncio.run(main())
    assert messages[0]["code"] == "nothing_to_end"
    (only,) = results(messages)
    assert only["result"]["transcript"] == "I am so happy"


def test_an_utterance_that_never_ends_is_cut_and_the_client_told(make_server, speech):
    live = make_server(limits={"max_utterance_s": 2.0, "stream_buffer_s": 30})
    happy = load_audio(speech["happy"])
    wave = np.tile(happy, int(np.ceil(5 * 16000 / len(happy))))[: 16000 * 5]  # 5 s of speech

    async def main():
        async with StreamClient(live.ws_url, 16000, segmentation="client") as client:
            for frame in pcm16_frames(wave, 16000):
                await client.send_audio(frame)
            await client.stop()
            return [m async for m in client.messages()]

    messages = asyncio.run(main())
    warnings = [m for m in messages if m.get("code") == "max_utterance_length"]
    found = results(messages)
    assert len(warnings) == 2 and [m["reason"] for m in found] == ["max_length"] * 2 + ["stop"]
    assert all(m["end_s"] - m["start_s"] <= 2.0 + 1e-6 for m in found)


def test_a_client_faster_than_real_time_is_bounded_by_the_buffer(make_server):
    live = make_server(limits={"max_utterance_s": 1.0, "stream_buffer_s": 3.0, "workers": 1})
    spoken = synthesize("I am so happy to see you again today").resampled(16000).wave
    talk = np.tile(spoken, 40 * 16000 // len(spoken) + 1)[: 40 * 16000]  # speech, not noise:
    # noise would be refused utterance by utterance (no speech to judge)

    async def main():
        async with StreamClient(live.ws_url, 16000, segmentation="client") as client:
            for frame in pcm16_frames(talk, 16000, frame_ms=500):  # 40 s as fast as possible
                await client.send_audio(frame)
            await client.stop()
            return [m async for m in client.messages()]

    messages = asyncio.run(main())
    assert any(m.get("code") == "buffer_full" for m in messages)
    answered = sum(m["end_s"] - m["start_s"] for m in results(messages))
    assert 0 < answered < 40  # some audio was dropped rather than queued without bound
    assert messages[-1]["type"] == "end"


async def _first_messages(url: str, *sends, max_size: int = 2**24) -> list:
    """Send raw messages, collect what the server answers until it closes (it may close
    before everything is sent: a refused connection)."""
    received = []
    async with websockets.connect(url, max_size=max_size) as ws:
        try:
            for message in sends:
                await ws.send(message)
        except websockets.ConnectionClosed:
            pass
        try:
            async for raw in ws:
                received.append(json.loads(raw))
        except websockets.ConnectionClosed:
            pass
        received.append({"close": ws.close_code})
    return received


def test_a_stream_asks_for_word_erasure(server):
    async def main():
        async with StreamClient(server.ws_url, 16000, attribution="erasure") as client:
            await client.send_transcript("I am so happy")
            await client.end_utterance()
            await client.stop()
            return client.ready, [m async for m in client.messages()]

    ready, messages = asyncio.run(main())
    assert ready["attribution"] == "erasure"
    (only,) = results(messages)
    assert only["result"]["attribution_method"] == "erasure"
    assert len(only["result"]["top_words"]["happy"]) == 3


def test_binary_before_the_start_message(server):
    got = asyncio.run(_first_messages(server.ws_url, b"\0\1" * 400))
    assert got[0]["code"] == "start_required" and got[-1] == {"close": 1008}


@pytest.mark.parametrize(
    "start",
    [
        '{"type": "start", "sample_rate": -1}',
        '{"type": "start", "sample_rate": 16000, "colour": "red"}',
        '{"type": "start", "sample_rate": 16000, "attribution": "integrated-gradients"}',
        "not json at all",
    ],
)
def test_bad_start_message(server, start):
    got = asyncio.run(_first_messages(server.ws_url, start))
    assert got[0]["code"] == "invalid_start" and got[-1] == {"close": 1008}


def test_message_too_large(make_server):
    live = make_server(limits={"ws_max_message_bytes": 64_000})
    start = '{"type": "start", "sample_rate": 16000}'
    got = asyncio.run(_first_messages(live.ws_url, start, b"\0" * 100_000))
    assert got[0]["type"] == "ready"
    assert got[1]["code"] == "message_too_large" and got[-1] == {"close": 1009}


def test_bad_control_message_is_not_fatal(server):
    async def main():
        async with StreamClient(server.ws_url, 16000) as client:
            await client._ws.send('{"type": "dance"}')
            await client.send_transcript("still here")
            await client.end_utterance()
            await client.stop()
            return [m async for m in client.messages()]

    messages = asyncio.run(main())
    assert messages[0]["code"] == "invalid_message" and len(results(messages)) == 1


def test_connections_per_client_are_limited(make_server):
    live = make_server(limits={"ws_connections_per_client": 2})
    start = '{"type": "start", "sample_rate": 16000}'

    async def main():
        async with websockets.connect(live.ws_url) as a, websockets.connect(live.ws_url) as b:
            for ws in (a, b):
                await ws.send(start)
                assert json.loads(await ws.recv())["type"] == "ready"
            third = await _first_messages(live.ws_url, start)
        async with websockets.connect(live.ws_url) as fourth:  # the others closed: room again
            await fourth.send(start)
            return third, json.loads(await fourth.recv())

    third, fourth = asyncio.run(main())
    assert third[0]["code"] == "too_many_connections" and third[-1] == {"close": 1008}
    assert fourth["type"] == "ready"


def test_reference_client_command_line(server, speech, capsys):
    from hri_emo.serve.client import main

    assert main([server.ws_url, "--wav", str(speech["happy"]), "--fast", "--text", "hi"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("[") and "beta" in line for line in lines), lines
