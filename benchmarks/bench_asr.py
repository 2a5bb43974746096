"""Built-in ASR on speech whose words and word times are known (eSpeak NG): WER, word-time error,
latency; Whisper's 30 s window against a short window.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_asr.py --threads 2

`hri_emo.inference.asr.WhisperASR` (faster-whisper, embedded tiny.en, int8, beam 1, word
timestamps) transcribes each sentence; WER is jiwer's corpus WER after lower-casing and removing
punctuation ("5" for "five" counts as an error). Word-time error: |start| and |end| differences
(s) of the recognised words that match the spoken word at their place, against eSpeak NG's spans.
"Short" windows (`WhisperASR(short_window=True)`) feed Whisper's encoder only the recording
plus 1 s instead of the 30 s window faster-whisper pads every segment to: the cost it saves,
and what it does to decoding, with and without the token cap and repetition penalty.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from hri_emo.inference.asr import Transcript, WhisperASR, normalise_words, word_error_rate
from hri_emo.synth import synthesize

SENTENCES = [
    "I can't believe you did that to me again.",
    "What a wonderful surprise, thank you so much!",
    "The meeting has been moved to Thursday afternoon.",
    "Please stop shouting, I am standing right here.",
    "I miss her every single day since she left.",
    "Honestly, this is the best news I have heard all year.",
    "Could you hand me the red box on the top shelf?",
    "That smell is absolutely disgusting, open a window.",
    "Please put the red cup on the kitchen table.",
    "I am so happy to see you again today.",
    "The robot will bring your coffee in a few minutes.",
    "Why did nobody tell me about the party?",
]


def time_errors(words: list[str], spans, heard: Transcript) -> list[float]:
    truth = list(zip(normalise_words(" ".join(words)), spans))
    errors, cursor = [], 0
    for word, (start, end) in zip(heard.words, heard.word_times):
        norm = normalise_words(word)
        for k in range(cursor, len(truth)):
            if norm and truth[k][0] == norm[0] and truth[k][1] is not None:
                errors += [abs(start - truth[k][1][0]), abs(end - truth[k][1][1])]
                cursor = k + 1
                break
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    speech = [synthesize(s) for s in SENTENCES]
    waves = [s.resampled(16000).wave for s in speech]
    seconds = sum(len(w) for w in waves) / 16000
    print(f"# {len(SENTENCES)} eSpeak NG sentences, {seconds:.1f} s; threads={args.threads}; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    variants = {
        "30 s (faster-whisper as it is)": {},
        "short: recording + 1 s, token cap, repetition penalty 1.3": {"short_window": True},
        "short, no cap, no penalty": {
            "short_window": True,
            "decode_options": {"max_new_tokens": None, "repetition_penalty": 1.0},
        },
    }
    print("| window | WER | word-time error mean / max (s) | ms per utterance (median) |")
    print("|---|---|---|---|")
    for label, options in variants.items():
        asr = WhisperASR("auto", threads=args.threads, **options).load()
        asr.transcribe(waves[0])  # warm-up
        heard, times = [], []
        for wave in waves:
            start = time.perf_counter()
            heard.append(asr.transcribe(wave))
            times.append(1000 * (time.perf_counter() - start))
        wer = word_error_rate(SENTENCES, [h.text for h in heard])
        errors = [e for s, h in zip(speech, heard) for e in time_errors(s.words, s.word_spans, h)]
        print(f"| {label} | {wer:.3f} | {np.mean(errors):.3f} / {np.max(errors):.3f} | "
              f"{np.median(times):.0f} |")  # fmt: skip
        for sentence, h in zip(SENTENCES, heard):
            if normalise_words(sentence) != normalise_words(h.text):
                print(f"  heard {h.text[:90]!r} for {sentence!r}")


if __name__ == "__main__":
    main()
