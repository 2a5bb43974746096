"""`EmotionRecognizer`: a trained model plus the feature pipeline it was trained with.

    recognizer = EmotionRecognizer.from_pretrained("runs/my-run")   # or a checkpoint folder
    result = recognizer.classify_file("hello.wav", "I am so happy to see you")
    result.predicted, result.probabilities, result.top_words("happy")

From a training checkpoint the encoders are rebuilt from `features.json` (encoder, layer,
pooling, Whisper window), the fine-tuned text encoder is used when there is one, and the stored
standardisation, text preprocessing, truncation and decision thresholds are applied, so an
utterance gets the probabilities and decisions `hri-emo evaluate` would give it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hri_emo.data.store_layout import StoredFeatures
from hri_emo.encoders import load_audio
from hri_emo.encoders.audio_io import TARGET_SAMPLE_RATE
from hri_emo.encoders.base import flatten_layers
from hri_emo.errors import ConfigError, DataError, FeatureMismatchError
from hri_emo.explain.result import (
    UtteranceExplanation,
    attribution_axis,
    explanation_from_output,
    waveform_envelope,
)
from hri_emo.inference.features import (
    MODALITIES,
    FeatureSpec,
    build_encoder,
    check_encoder,
    check_features,
)
from hri_emo.model import load_model
from hri_emo.training.metrics import predictions

log = logging.getLogger(__name__)


class EmotionRecognizer:
    """Encoders + fusion model; `classify_file`, `classify` and `classify_features`.

    Encoders not given are built on first use: from the checkpoint's `features.json`, or the
    embedded MiniLM / Whisper tiny.en for a bare `save_pretrained` folder. `text_encoder` may be a
    frozen encoder (`encode(texts)`) or a fine-tuned `TrainableTextEncoder` (`forward(texts)`).
    """

    def __init__(
        self,
        model: nn.Module,
        text_encoder: Any = None,
        audio_encoder: Any = None,
        *,
        spec: FeatureSpec | None = None,
        thresholds: list[float] | None = None,
    ) -> None:
        self.model = model.eval()
        self.spec = spec or FeatureSpec()
        self.thresholds = None if thresholds is None else [float(t) for t in thresholds]
        self.emotions: list[str] = list(model.config.emotions)
        self.task: str = model.config.task
        self._encoders: dict[str, Any] = {"text": text_encoder, "audio": audio_encoder}
        for modality, encoder in self._encoders.items():
            entry = self.spec.metadata(modality)
            if (
                encoder is not None
                and entry
                and "encoder" in entry
                and hasattr(encoder, "metadata")
            ):
                check_encoder(modality, encoder, entry)

    @classmethod
    def from_pretrained(cls, path: str | Path) -> EmotionRecognizer:
        """From a run folder (its best checkpoint), a checkpoint folder or a bare model folder."""
        from hri_emo.training.checkpoint import load_checkpoint, resolve_checkpoint

        path = Path(path)
        try:
            directory = resolve_checkpoint(path)
        except FileNotFoundError:
            raise ConfigError(
                f"{path} is not a trained model: expected a run folder (with checkpoints/best/), "
                "a checkpoint folder (model.safetensors, config.json, features.json, ...) or a "
                "save_pretrained folder (model.safetensors, config.json)"
                + ("" if path.exists() else "; the path does not exist")
            ) from None
        try:
            if not (directory / "features.json").is_file():
                return cls(load_model(directory))
            ckpt = load_checkpoint(directory)
        except FileNotFoundError as err:
            raise ConfigError(f"{directory}: incomplete model or checkpoint folder: {err}") from err
        spec = FeatureSpec.from_checkpoint(ckpt)
        text_encoder = ckpt.text_encoder.eval() if ckpt.text_encoder is not None else None
        return cls(ckpt.model, text_encoder, spec=spec, thresholds=ckpt.thresholds)

    @property
    def text_encoder(self) -> Any:
        return self._encoder("text")

    @property
    def audio_encoder(self) -> Any:
        return self._encoder("audio")

    def classify_file(
        self, wav_path: str | Path | None, text: str | None, *, attribution: str = "attention"
    ) -> UtteranceExplanation:
        """Recognise the emotion of one recording and/or transcript."""
        wave = load_audio(wav_path) if wav_path is not None else None
        return self.classify(wave, text, attribution=attribution)

    @torch.no_grad()
    def classify(
        self,
        wave: np.ndarray | None,
        text: str | None,
        *,
        audio_features: np.ndarray | None = None,
        attribution: str = "attention",
    ) -> UtteranceExplanation:
        """`wave`: float32 mono 16 kHz samples (or None); `text`: transcript (or None).

        `audio_features`: precomputed, unstandardised audio features instead of a recording
        (a model trained on manifest columns such as openSMILE functionals). A modality the
        model was trained without is ignored (with a warning). `attribution`: "attention" (the
        model's maps) or "integrated-gradients" (Captum; slower, more faithful on our data)."""
        if wave is not None and audio_features is not None:
            raise DataError("give a recording or audio_features, not both")
        has_text = bool(text and text.strip())
        if wave is None and audio_features is None and not has_text:
            what = "the transcript is empty" if text is not None else "no transcript"
            raise DataError(f"need a transcript, a recording, or both; got {what} and no recording")
        given = {"text": has_text, "audio": wave is not None}
        for modality in MODALITIES:
            if given[modality] and self.spec.is_record(modality):
                raise self.spec.record_error(modality)
            if given[modality] and not self.spec.is_used(modality):
                log.warning("the model was trained without %s; ignoring the %s", modality, modality)
                given[modality] = False
                if not any(given.values()) and audio_features is None:
                    raise DataError(f"the model was trained without {modality}; nothing to use")
        timings: dict[str, float] = {}
        text_in = self._encode_text(text, timings) if given["text"] else None
        audio_in = self._encode_audio(wave, timings) if given["audio"] else None
        if audio_features is not None:
            audio_in = self._given("audio", audio_features)
        context: dict[str, Any] = {}
        if has_text:
            context.update(transcript=text, transcript_source="given")
        if wave is not None:
            duration = len(wave) / TARGET_SAMPLE_RATE
            context.update(duration_s=duration, envelope=waveform_envelope(wave))
        return self._run(text_in, audio_in, timings, attribution, **context)

    @torch.no_grad()
    def classify_features(
        self,
        text_features: np.ndarray | None = None,
        audio_features: np.ndarray | None = None,
        words: list[str] | None = None,
        frame_times: np.ndarray | None = None,
    ) -> UtteranceExplanation:
        """Classify precomputed, unstandardised features ((L, D) or pooled (D,)), as they were
        stored for training; the checkpoint's standardisation and truncation are applied.
        `words`: one per text position (default "<0>", "<1>", ...); `frame_times`: (La, 2) s."""
        if text_features is None and audio_features is None:
            raise DataError("classify_features needs text_features, audio_features, or both")
        text_in = None if text_features is None else self._given("text", text_features, words)
        audio_in = None
        if audio_features is not None:
            audio_in = self._given("audio", audio_features, frame_times=frame_times)
        return self._run(text_in, audio_in, {})

    def _given(
        self,
        modality: str,
        array: np.ndarray,
        words: list[str] | None = None,
        frame_times: np.ndarray | None = None,
    ) -> StoredFeatures:
        """User-given features, checked, standardised and truncated."""
        if not self.spec.is_used(modality):
            message = f"{modality}_features given, but the model was trained without {modality}"
            raise FeatureMismatchError(message)
        dim = getattr(self.model.config, f"{modality}_dim")
        features = check_features(modality, array, dim, self.spec)
        if frame_times is not None:
            frame_times = np.asarray(frame_times, dtype=np.float64).reshape(-1, 2)
        tokens = _check_words(words, features) if modality == "text" else None
        return self.spec.prepare(modality, features, tokens, frame_times)

    def _encoder(self, modality: str) -> Any:
        if self._encoders[modality] is None:
            if self.spec.is_record(modality):
                raise self.spec.record_error(modality)
            self._encoders[modality] = build_encoder(modality, self.spec)
        return self._encoders[modality]

    def _encode_text(self, text: str, timings: dict[str, float]) -> StoredFeatures:
        encoder = self.text_encoder
        text = self.spec.preprocess_text(text)
        start = time.perf_counter()
        if not hasattr(encoder, "encode"):  # a fine-tuned TrainableTextEncoder
            features, mask = encoder([text])  # (1, T, D), (1, T)
            array = features[0][mask[0]].float().cpu().numpy()
            stored = StoredFeatures(array, list(encoder.last_words[0]))
        else:
            encoded = encoder.encode([text])[0]
            array = flatten_layers(encoded.features, encoder.layer)
            self._check_dim("text", array, encoder)
            stored = self.spec.prepare("text", array, encoded.tokens, None, raw_text=text)
        timings["text_encoder"] = 1000 * (time.perf_counter() - start)
        return stored

    def _encode_audio(self, wave: np.ndarray, timings: dict[str, float]) -> StoredFeatures:
        encoder = self.audio_encoder
        start = time.perf_counter()
        encoded = encoder.encode([wave])[0]
        array = flatten_layers(encoded.features, encoder.layer)
        self._check_dim("audio", array, encoder)
        stored = self.spec.prepare("audio", array, None, encoded.frame_times)
        timings["audio_encoder"] = 1000 * (time.perf_counter() - start)
        return stored

    def _check_dim(self, modality: str, array: np.ndarray, encoder: Any) -> None:
        expected = getattr(self.model.config, f"{modality}_dim")
        if array.shape[-1] != expected:
            raise FeatureMismatchError(
                f"{modality} encoder {getattr(encoder, 'name', encoder)!r} gives "
                f"{array.shape[-1]}-d features, but the model expects {modality}_dim={expected}"
            )

    def _run(
        self,
        text_in,
        audio_in,
        timings: dict[str, float],
        attribution: str = "attention",
        **context: Any,
    ) -> UtteranceExplanation:
        device = next(self.model.parameters()).device

        def tensor(stored):
            return None if stored is None else torch.from_numpy(stored.features)[None].to(device)

        start = time.perf_counter()
        out = self.model(text=tensor(text_in), audio=tensor(audio_in))
        timings["fusion_model"] = 1000 * (time.perf_counter() - start)
        words = list(text_in.tokens or []) if text_in is not None else []
        frame_times = None if audio_in is None else audio_in.frame_times
        exp = self.explain_output(out, 0, words, frame_times, timings_ms=timings, **context)
        if attribution != "attention":
            from hri_emo.explain.faithfulness import (
                Utterance,
                check_attribution,
                use_gradient_attribution,
            )

            check_attribution(attribution)
            features = [None if x is None else x.features for x in (text_in, audio_in)]
            use_gradient_attribution(exp, self.model, Utterance(*features))
        return exp

    def explain_output(
        self,
        out: Any,
        index: int,
        words: list[str],
        frame_times: np.ndarray | None,
        **context: Any,
    ) -> UtteranceExplanation:
        """The UtteranceExplanation of item `index` of a model output, with this recognizer's
        emotions, task and decision thresholds (`context`: further fields, e.g. transcript)."""
        probs = out.probabilities[index : index + 1].double().cpu().numpy()  # as evaluate does
        decision = predictions(self.task, probs, self.thresholds)[0]
        return explanation_from_output(
            out,
            index,
            emotions=self.emotions,
            task=self.task,
            decision=decision,
            words=words,
            frame_times=frame_times,
            thresholds=self.thresholds,
            attribution_over=attribution_axis(self.model),
            **context,
        )


def _check_words(words: list[str] | None, features: np.ndarray) -> list[str]:
    length = 1 if features.ndim == 1 else features.shape[0]
    if words is None:
        return [f"<{i}>" for i in range(length)]
    if len(words) != length:
        raise DataError(f"words: {len(words)} given for {length} text feature positions")
    return [str(w) for w in words]
