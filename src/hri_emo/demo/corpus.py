"""The demo corpus: synthetic spoken emotion, generated with eSpeak NG from a seed and cached.

It is a controlled testbed for the gate and the explanations, not a benchmark of real emotion
recognition. Every utterance says which modality carries its label (`carrier`):

- `both`: the words and the voice express the same emotion (neutral words in a neutral voice too);
- `words`: emotional words in a neutral voice;
- `voice`: neutral words in an emotional voice;
- `conflict`: emotional words and a different emotional voice. Rule: the voice wins (the label is
  the voice's emotion): how something is said overrides what is said, as in sarcasm.

The voice's emotion is prosody: speaking rate, pitch, pitch range and volume, jittered per
utterance. Speakers are eSpeak NG voices with variants; the validation and the test split each
use voices and sentences that no other split has, so validation asks the question the test asks
(a validation of heard sentences cannot tell a model that learnt the wording from one that
learnt the emotion). Each row keeps the exact word spans from eSpeak NG's word
events (`word_spans`, JSON), the ground truth for the alignment check of the explanations, and
human rationale marks (`rationale`, JSON 0/1 per word: the words that carry the wording's
emotion, demo/rationales.py), the ground truth for the attribution check. Neither is used in
training.

    manifest = build_corpus(cache_dir() / "demo-corpus")   # -> manifest.csv, reused when present
"""

from __future__ import annotations

import csv
import json
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hri_emo.demo.rationales import rationale_mask
from hri_emo.demo.sentences import EMOTIONAL_SENTENCES, NEUTRAL_SENTENCES, split_sentences
from hri_emo.errors import ConfigError
from hri_emo.synth.espeak import LIMITS

log = logging.getLogger(__name__)

CORPUS_VERSION = 5  # bump when generation changes: a cached corpus of another version is rebuilt
SAMPLE_RATE = 16000
EMOTIONS = ["angry", "happy", "neutral", "sad"]
CARRIERS = ["both", "words", "voice", "conflict"]
VOICES = {
    "train": [
        "en-us+m1", "en-us+f1", "en+m3", "en+f2", "en-gb-scotland+m4",
        "en-gb-x-rp+m2", "en-029+f3", "en-us+m8", "en+m2", "en-us+f5", "en-029+m3",
    ],
    "valid": ["en-us+m6", "en+f5", "en-gb-scotland+f1"],
    "test": ["en-us+m7", "en+f4", "en-gb-x-rp+m5", "en-us+f2"],
}  # fmt: skip
# Prosody of each emotion: (mean, jitter) of eSpeak NG's settings.
PROSODY = {
    "neutral": {"rate": (160, 10), "pitch": (50, 6), "pitch_range": (35, 6), "volume": (100, 6)},
    "happy": {"rate": (190, 10), "pitch": (80, 5), "pitch_range": (100, 0), "volume": (120, 8)},
    "sad": {"rate": (105, 8), "pitch": (20, 5), "pitch_range": (5, 4), "volume": (60, 6)},
    "angry": {"rate": (245, 10), "pitch": (35, 5), "pitch_range": (60, 8), "volume": (200, 0)},
}
# Utterances per voice: (word emotion, voice emotion, count).
PLAN = [
    *[(e, e, 3) for e in ("happy", "sad", "angry")],
    ("neutral", "neutral", 6),
    *[(e, "neutral", 3) for e in ("happy", "sad", "angry")],
    *[("neutral", e, 3) for e in ("happy", "sad", "angry")],
    *[(w, v, 1) for w in ("happy", "sad", "angry") for v in ("happy", "sad", "angry") if w != v],
]
MANIFEST = "manifest.csv"
COLUMNS = [
    "id", "split", "speaker", "text", "wav", "label", "carrier",
    "word_emotion", "voice_emotion", "settings", "word_spans", "rationale",
]  # fmt: skip


@dataclass
class DemoUtterance:
    """One planned utterance (before synthesis)."""

    id: str
    split: str
    voice: str
    text: str
    word_emotion: str
    voice_emotion: str
    settings: dict[str, int]

    @property
    def carrier(self) -> str:
        if self.word_emotion == self.voice_emotion:
            return "both"
        if self.voice_emotion == "neutral":
            return "words"
        return "voice" if self.word_emotion == "neutral" else "conflict"

    @property
    def label(self) -> str:
        """The documented rule: the voice's emotion unless the voice is neutral."""
        return self.word_emotion if self.voice_emotion == "neutral" else self.voice_emotion


def draw_prosody(rng: np.random.Generator, emotion: str, jitter: float = 1.0) -> dict[str, int]:
    """One take's eSpeak settings for `emotion`: each setting drawn around its mean with
    `jitter` times its PROSODY jitter as two standard deviations, clipped to its LIMITS."""
    return {
        name: int(np.clip(round(rng.normal(mean, jitter * spread / 2)), *LIMITS[name]))
        for name, (mean, spread) in PROSODY[emotion].items()
    }


def plan_corpus(seed: int = 0) -> list[DemoUtterance]:
    """Every utterance's voice, sentence and prosody, drawn from `seed` (no audio yet)."""
    rng = np.random.default_rng(seed)
    utterances = []
    for split, voices in VOICES.items():
        pools = {e: split_sentences(s, split) for e, s in EMOTIONAL_SENTENCES.items()}
        pools["neutral"] = split_sentences(NEUTRAL_SENTENCES, split)
        for voice in voices:
            for word_emotion, voice_emotion, count in PLAN:
                pool = pools[word_emotion]
                for text in rng.choice(pool, size=count, replace=count > len(pool)):
                    settings = draw_prosody(rng, voice_emotion)
                    uid = f"{split}-{len(utterances):04d}"
                    utterances.append(
                        DemoUtterance(
                            uid, split, voice, str(text), word_emotion, voice_emotion, settings
                        )
                    )
    return utterances


def build_corpus(folder: str | Path, seed: int = 0, progress: bool = True) -> Path:
    """Synthesise the corpus into `folder` (wav/ + manifest.csv); reuse it when it is complete."""
    folder = Path(folder)
    manifest = folder / MANIFEST
    stamp = folder / "corpus.json"
    identity = {"version": CORPUS_VERSION, "seed": seed}
    if manifest.is_file() and stamp.is_file() and json.loads(stamp.read_text()) == identity:
        add_rationales(manifest)  # a corpus built before the marks existed gets them
        return manifest
    if folder.exists() and any(folder.iterdir()) and not stamp.is_file():
        raise ConfigError(f"{folder} is not empty and holds no demo corpus; pick another folder")
    (folder / "wav").mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    rows = synthesize_plan(plan_corpus(seed), folder, progress)
    with manifest.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    stamp.write_text(json.dumps(identity))
    return manifest


def synthesize_plan(
    plan: list[DemoUtterance], folder: Path, progress: bool = True
) -> list[dict[str, str]]:
    """Speak every planned utterance into `folder`/wav; returns the manifest rows.

    eSpeak NG carries state from one synthesis to the next (the same call gives slightly
    different audio after other speech, even after re-initialising), so the plan is spoken by a
    fresh process: the corpus is the same whatever the calling process spoke before (a test
    session, a notebook), and the same as `hri-emo demo` builds."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_speak_plan, plan, folder, progress).result()


def _speak_plan(plan: list[DemoUtterance], folder: Path, progress: bool) -> list[dict[str, str]]:
    from hri_emo.synth import synthesize

    rows = []
    for i, utt in enumerate(plan):
        wav = Path("wav") / f"{utt.id}.wav"
        speech = synthesize(utt.text, voice=utt.voice, **utt.settings).resampled(SAMPLE_RATE)
        speech.write(folder / wav)
        spans = [None if s is None else [round(s[0], 4), round(s[1], 4)] for s in speech.word_spans]
        rows.append(_row(utt, wav, spans))
        if progress and (i + 1) % 100 == 0:
            print(f"  corpus: {i + 1}/{len(plan)} utterances synthesised", flush=True)
    return rows


def add_rationales(manifest: Path) -> None:
    """Write the `rationale` column (human marks of the emotional words, demo/rationales.py)
    into a manifest that lacks it; the audio is left as it is."""
    with manifest.open() as f:
        rows = list(csv.DictReader(f))
    if rows and "rationale" in rows[0]:
        return
    for row in rows:
        row["rationale"] = json.dumps([int(flag) for flag in rationale_mask(row["text"])])
    partial = manifest.with_suffix(".partial")
    with partial.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    partial.replace(manifest)


def _row(utt: DemoUtterance, wav: Path, spans: list) -> dict[str, str]:
    return {
        "id": utt.id,
        "split": utt.split,
        "speaker": utt.voice,
        "text": utt.text,
        "wav": str(wav),
        "label": utt.label,
        "carrier": utt.carrier,
        "word_emotion": utt.word_emotion,
        "voice_emotion": utt.voice_emotion,
        "settings": json.dumps(utt.settings),
        "word_spans": json.dumps(spans),
        # the words that carry the wording's emotion (for measuring explanations, not training)
        "rationale": json.dumps([int(flag) for flag in rationale_mask(utt.text)]),
    }
