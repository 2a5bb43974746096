"""Which voice-activity detector should segment robot streams? silero-vad vs webrtcvad.

Speech: eSpeak NG sentences (trimmed to their voiced span), 1.0 s of gap between them, mixed
with white and pink noise at several SNRs. For each detector and condition it prints the
utterances found vs expected, the mean start/end error of the matched ones, frame accuracy, and
CPU time per frame. Loopback-free, a few seconds of CPU.

    python benchmarks/bench_vad.py [--snr 20 10 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from hri_emo.inference.vad import VAD_SAMPLE_RATE, create_vad
from hri_emo.serve.segmenter import SegmenterConfig, SpeechSegment, UtteranceSegmenter
from hri_emo.synth import synthesize

SENTENCES = [
    "I am so happy to see you again today",
    "Please put the red cup on the kitchen table",
    "That was not what I asked you to do at all",
    "Thank you, that is exactly right",
    "Could you come a little closer to me",
    "I really do not like this noise",
]
GAP_S = 1.0


def speech_track() -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The sentences one after another with gaps; returns the wave and the true spans."""
    rate = VAD_SAMPLE_RATE
    pieces, spans, cursor = [np.zeros(int(GAP_S * rate), np.float32)], [], GAP_S
    for sentence in SENTENCES:
        wave = synthesize(sentence).resampled(rate).wave
        voiced = np.flatnonzero(np.abs(wave) > 0.02)
        wave = wave[voiced[0] : voiced[-1] + 1]
        spans.append((cursor, cursor + len(wave) / rate))
        pieces += [wave, np.zeros(int(GAP_S * rate), np.float32)]
        cursor += len(wave) / rate + GAP_S
    return np.concatenate(pieces), spans


def noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(n)
    if kind == "white":
        return white
    spectrum = np.fft.rfft(white) / np.sqrt(np.arange(1, n // 2 + 2))  # 1/f power
    return np.fft.irfft(spectrum, n)


def mix(speech: np.ndarray, kind: str, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    n = noise(kind, len(speech), rng)
    speech_power = np.mean(speech[np.abs(speech) > 0.02] ** 2)
    n *= np.sqrt(speech_power / 10 ** (snr_db / 10) / np.mean(n**2))
    return np.clip(speech + n, -1, 1).astype(np.float32)


def run(name: str, wave: np.ndarray) -> tuple[list[SpeechSegment], float, list[bool]]:
    vad = create_vad(name)
    segmenter = UtteranceSegmenter(vad, SegmenterConfig())
    pcm = (wave * 32767).astype(np.int16)
    frames = len(pcm) // vad.frame_samples
    start = time.process_time()
    utterances = [e for e in segmenter.push(pcm) if isinstance(e, SpeechSegment)]
    cpu_us = 1e6 * (time.process_time() - start) / frames
    decisions = []
    vad.reset()
    for frame in pcm[: frames * vad.frame_samples].reshape(frames, -1):
        decisions.append(vad.speech_probability(frame) >= 0.5)
    return utterances, cpu_us, decisions


def score(utterances, spans, decisions, frame_samples: int) -> dict[str, float]:
    matched, start_err, end_err = 0, [], []
    for lo, hi in spans:
        hits = [u for u in utterances if u.start_s < hi and u.end_s > lo]
        if len(hits) == 1 and sum(hits[0].start_s < b and hits[0].end_s > a for a, b in spans) == 1:
            matched += 1
            start_err.append(abs(hits[0].start_s - lo))
            end_err.append(abs(hits[0].end_s - hi))
    times = (np.arange(len(decisions)) + 0.5) * frame_samples / VAD_SAMPLE_RATE
    truth = np.zeros(len(decisions), bool)
    for lo, hi in spans:
        truth |= (times >= lo) & (times < hi)
    return {
        "found": len(utterances),
        "matched_1to1": matched,
        "start_err_ms": 1000 * float(np.mean(start_err)) if start_err else float("nan"),
        "end_err_ms": 1000 * float(np.mean(end_err)) if end_err else float("nan"),
        "frame_acc": float(np.mean(np.asarray(decisions) == truth)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--snr", type=float, nargs="+", default=[30.0, 10.0, 5.0, 0.0])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    speech, spans = speech_track()
    print(f"{len(spans)} utterances, {len(speech) / VAD_SAMPLE_RATE:.1f} s of stream")
    header = (
        "noise  SNR dB  vad     found  matched  start err ms  end err ms  frame acc  CPU us/frame"
    )
    print(header)
    for kind in ("white", "pink"):
        for snr in args.snr:
            wave = mix(speech, kind, snr, rng)
            for name in ("silero", "webrtc"):
                utterances, cpu_us, decisions = run(name, wave)
                frame = create_vad(name).frame_samples
                s = score(utterances, spans, decisions, frame)
                print(
                    f"{kind:<6} {snr:>6.0f}  {name:<7} {s['found']:>5}  {s['matched_1to1']:>7}"
                    f"  {s['start_err_ms']:>12.0f}  {s['end_err_ms']:>10.0f}"
                    f"  {s['frame_acc']:>9.3f}  {cpu_us:>12.0f}"
                )


if __name__ == "__main__":
    main()
