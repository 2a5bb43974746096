"""`EmotionRecognizer`: encoders + model in one object, for a file or a batch of utterances."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from hri_emo.encoders import create_audio_encoder, create_text_encoder, load_audio
from hri_emo.errors import DataError
from hri_emo.model import load_model


@dataclass
class Explanation:
    """Prediction for one utterance and the reasons behind it."""

    probabilities: dict[str, float]
    beta_mean: float | None  # 1 = audio trusted, 0 = text trusted
    words: list[str]
    word_attribution: dict[str, list[float]]  # emotion -> weight per word (from attribution)
    word_to_audio: list[tuple[float, float] | None]  # per word: most attended audio frame (s)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def top_words(self, emotion: str, k: int = 3) -> list[tuple[str, float]]:
        """The k words that drove `emotion` most."""
        weights = self.word_attribution.get(emotion, [])
        order = np.argsort(weights)[::-1][:k]
        return [(self.words[i], float(weights[i])) for i in order if i < len(self.words)]


class EmotionRecognizer:
    """Embedded (offline) encoders plus a fusion model; `classify_file` / `classify`."""

    def __init__(self, model: nn.Module, text_encoder=None, audio_encoder=None) -> None:
        self.model = model.eval()
        self.text_encoder = text_encoder or create_text_encoder("minilm")
        self.audio_encoder = audio_encoder or create_audio_encoder("whisper-tiny-en")
        self.emotions = list(model.config.emotions)

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> EmotionRecognizer:
        return cls(load_model(directory))

    def classify_file(self, wav_path: str | Path | None, text: str | None) -> Explanation:
        """Recognise the emotion of one recording and/or transcript."""
        wave = load_audio(wav_path) if wav_path is not None else None
        return self.classify(wave, text)

    @torch.no_grad()
    def classify(self, wave: np.ndarray | None, text: str | None) -> Explanation:
        """`wave`: float32 mono 16 kHz samples (or None); `text`: transcript (or None)."""
        if wave is None and not (text and text.strip()):
            raise DataError("need a transcript, a recording, or both; got neither")
        timings: dict[str, float] = {}
        text_feats, words = None, []
        if text and text.strip():
            start = time.perf_counter()
            encoded = self.text_encoder.encode([text])[0]
            timings["text_encoder"] = 1000 * (time.perf_counter() - start)
            text_feats, words = torch.from_numpy(encoded.features)[None], list(encoded.tokens)
        audio_feats, frame_times = None, None
        if wave is not None:
            start = time.perf_counter()
            encoded_audio = self.audio_encoder.encode([wave])[0]
            timings["audio_encoder"] = 1000 * (time.perf_counter() - start)
            audio_feats = torch.from_numpy(encoded_audio.features)[None]
            frame_times = encoded_audio.frame_times
        start = time.perf_counter()
        out = self.model(text=text_feats, audio=audio_feats)
        timings["fusion_model"] = 1000 * (time.perf_counter() - start)
        return self._explain(out, words, frame_times, timings)

    def _explain(self, out, words, frame_times, timings) -> Explanation:
        probs = out.probabilities[0].tolist()
        attribution = {}
        if out.attribution is not None and words:
            for i, emotion in enumerate(self.emotions):
                attribution[emotion] = out.attribution[0, i, : len(words)].tolist()
        word_to_audio: list[tuple[float, float] | None] = [None] * len(words)
        if out.alignment is not None and words and frame_times is not None:
            best = out.alignment[0, : len(words)].argmax(dim=-1).tolist()  # (Lt,)
            word_to_audio = [tuple(map(float, frame_times[j])) for j in best]
        return Explanation(
            probabilities=dict(zip(self.emotions, probs)),
            beta_mean=None if out.beta_mean is None else float(out.beta_mean[0]),
            words=words,
            word_attribution=attribution,
            word_to_audio=word_to_audio,
            timings_ms=timings,
        )
