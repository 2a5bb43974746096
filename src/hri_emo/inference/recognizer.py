"""`EmotionRecognizer`: a trained model plus the feature pipeline it was trained with.

    recognizer = EmotionRecognizer.from_pretrained("runs/my-run")   # or a checkpoint folder
    result = recognizer.classify_file("hello.wav", "I am so happy to see you")
    result.predicted, result.probabilities, result.top_words("happy")

From a training checkpoint the encoders are rebuilt from `features.json` (encoder, layer,
pooling, Whisper window), the fine-tuned text encoder is used when there is one, and the stored
standardisation, text preprocessing, truncation and decision thresholds are applied, so an
utterance gets the probabilities and decisions `hri-emo evaluate` would give it.

A recording without a transcript is transcribed by the ASR (`asr="auto"`: the embedded Whisper
tiny.en, `hri_emo.inference.asr`) when the model uses text; `backend="onnxruntime"` runs the
fusion model from the folder's `model.onnx` (`hri-emo export MODEL --format onnx`) and a frozen
Hugging Face text encoder's last layer (exported once into the cache) on onnxruntime.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hri_emo.checkpoint import Checkpoint
from hri_emo.checkpoint.folder import model_folder, read_model_folder
from hri_emo.data.dialogues import pool_turn
from hri_emo.data.features import MODALITIES, FeatureSpec, UtteranceFeatures, flatten_layers
from hri_emo.encoders import load_audio
from hri_emo.errors import ConfigError, DataError, FeatureMismatchError
from hri_emo.inference import batch
from hri_emo.inference.asr import Transcript, WhisperASR, create_asr
from hri_emo.inference.dialogue import Dialogue, PastTurns
from hri_emo.inference.features import build_encoder, check_encoder, given_features
from hri_emo.inference.many import predict_batch
from hri_emo.inference.timing import given_times
from hri_emo.result import UtteranceExplanation

log = logging.getLogger(__name__)
BACKENDS = ("torch", "onnxruntime")


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
        asr: str | WhisperASR | None = None,
        onnx_model: Any = None,
    ) -> None:
        self.model = model.eval()
        self.onnx_model = onnx_model  # an OnnxFusionModel run instead of `model`, or None
        self.runner = model if onnx_model is None else onnx_model  # runs the model's forward
        self.backend = "torch" if onnx_model is None else "onnxruntime"
        self.spec = spec or FeatureSpec()
        self.thresholds = None if thresholds is None else [float(t) for t in thresholds]
        self.emotions: list[str] = list(model.config.emotions)
        self.task: str = model.config.task
        self._encoders: dict[str, Any] = {"text": text_encoder, "audio": audio_encoder}
        for modality, encoder in self._encoders.items():
            entry = self.spec.metadata(modality) or {}
            if encoder is not None and "encoder" in entry and hasattr(encoder, "metadata"):
                check_encoder(modality, encoder, entry)
        transcribes = self.spec.is_used("text") and not self.spec.is_record("text")
        self.asr: WhisperASR | None = create_asr(asr) if transcribes else None
        self._aligner: WhisperASR | None = None

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        *,
        asr: str | WhisperASR | None = "auto",
        backend: str = "torch",
        onnx_path: str | Path | None = None,
    ) -> EmotionRecognizer:
        """From a run folder (its best checkpoint), a checkpoint folder or a bare model folder.

        `asr`: transcribe recordings given without a transcript ("auto": embedded Whisper
        tiny.en; "none"; a CTranslate2 Whisper folder or size name). `backend`: "torch" or
        "onnxruntime" (the fusion model from `onnx_path`, default the folder's model.onnx)."""
        directory = model_folder(path)
        if backend not in BACKENDS:
            raise ConfigError(f"backend {backend!r}: choose one of {', '.join(BACKENDS)}")
        model, ckpt = read_model_folder(directory)
        onnx_model = None
        if backend == "onnxruntime":
            from hri_emo.inference.onnx_backend import ONNX_NAME, OnnxFusionModel

            onnx_model = OnnxFusionModel(onnx_path or directory / ONNX_NAME, model.config)
        if ckpt is None:
            return cls(model, asr=asr, onnx_model=onnx_model)
        return cls.from_checkpoint(ckpt, asr=asr, onnx_model=onnx_model)

    @classmethod
    def from_run(
        cls, run: Any, *, asr: str | WhisperASR | None = None, onnx_model: Any = None
    ) -> EmotionRecognizer:
        """The recognizer of an opened run (`hri_emo.training.run.open_run`)."""
        return cls.from_checkpoint(run.checkpoint, asr=asr, onnx_model=onnx_model)

    @classmethod
    def from_checkpoint(
        cls, ckpt: Checkpoint, *, asr: str | WhisperASR | None = None, onnx_model: Any = None
    ) -> EmotionRecognizer:
        """The recognizer of a read checkpoint folder: its model, its fine-tuned text encoder
        if any, feature spec and decision thresholds."""
        text_encoder = ckpt.text_encoder.eval() if ckpt.text_encoder is not None else None
        spec = FeatureSpec.from_checkpoint(ckpt)
        return cls(
            ckpt.model,
            text_encoder,
            spec=spec,
            thresholds=ckpt.thresholds,
            asr=asr,
            onnx_model=onnx_model,
        )

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
        sample_rate: int = 16000,
        *,
        audio_features: np.ndarray | None = None,
        transcribe: bool = True,
        attribution: str = "attention",
        word_times: Sequence[tuple[float, float] | None] | None = None,
    ) -> UtteranceExplanation:
        """`wave`: float mono samples in [-1, 1] at `sample_rate` (resampled to 16 kHz), or
        None; `text`: transcript (a str, or None). A waveform that is empty, silent (all
        zeros), holds NaN/Inf or samples outside [-1, 1] is an AudioError, as the same samples
        read from a file are; arguments of the wrong type are an InputTypeError (a TypeError).
        Too little to judge (a recording under 0.25 s, a transcript without words) is refused
        when it is all there is, and ignored with a note otherwise (`inference.batch`).

        A recording without a transcript is transcribed when the recognizer has an ASR and
        `transcribe` is True (the result's transcript_source is then "asr").

        `audio_features`: precomputed, unstandardised audio features instead of a recording
        (a model trained on manifest columns such as openSMILE functionals). A modality the
        model was trained without is ignored (with a warning). `attribution`: "attention" (the
        model's maps) or "integrated-gradients" (Captum; slower, more faithful on our data).

        `word_times`: when each word of `text` (split on whitespace) was spoken in `wave`, as
        (start, end) seconds or None, e.g. from the caller's own ASR. A model trained with word
        times then uses them instead of aligning the transcript itself (saving that pass);
        other models only report them (`result.word_times`)."""
        return self._turn(
            wave, text, sample_rate, audio_features, transcribe, attribution, word_times
        )[0]

    def dialogue(self, max_turns: int | None = None) -> Dialogue:
        """A conversation with this recognizer: `dialogue.classify(wave, text, speaker)` reads
        the last `max_turns` turns (default: the model's context_turns) as context."""
        return Dialogue(self, max_turns)

    @torch.no_grad()
    def classify_turn(
        self, *args: Any, past: PastTurns | None = None, **options: Any
    ) -> tuple[UtteranceExplanation, np.ndarray | None, np.ndarray | None]:
        """`classify(*args, **options)` with a dialogue's `past` turns as the model's context;
        also returns this turn's context vectors: `pool_turn` of its text features (None without
        usable text) and, for a model that reads the audio of past turns, of its audio features
        (None without)."""
        arguments = inspect.signature(self.classify).bind(*args, **options)  # classify's rules
        arguments.apply_defaults()
        result, text_in, audio_in = self._turn(*arguments.arguments.values(), past)
        text_vector = None if text_in is None else pool_turn(text_in.features)
        keep_audio = audio_in is not None and getattr(self.model.config, "context_audio", False)
        return result, text_vector, pool_turn(audio_in.features) if keep_audio else None

    def _turn(
        self,
        wave: np.ndarray | None,
        text: str | None,
        sample_rate: int,
        audio_features: np.ndarray | None,
        transcribe: bool,
        attribution: str,
        word_times: Sequence[tuple[float, float] | None] | None = None,
        past: PastTurns | None = None,
    ) -> tuple[UtteranceExplanation, UtteranceFeatures | None, UtteranceFeatures | None]:
        """One utterance through the pipeline: its result and its model-ready text and audio
        features."""
        if wave is not None and audio_features is not None:
            raise DataError("give a recording or audio_features, not both")
        text = batch.check_text(text)
        if wave is not None:  # refused like the same samples read from a file
            wave = batch.prepare_wave(wave, sample_rate, "the waveform given to classify()")
        has_text = bool(text and text.strip())
        spoken = None if word_times is None else given_times(word_times, text, wave, "classify()")
        if wave is None and audio_features is None and not has_text:
            what = "the transcript is empty" if text is not None else "no transcript"
            raise DataError(f"need a transcript, a recording, or both; got {what} and no recording")
        notes: list[str] = []
        if audio_features is None:
            wave, text, notes = batch.admit(
                wave,
                text if has_text else None,
                "classify()",
                judge_speech=batch.reads_recordings(self.spec),
            )
            has_text = text is not None
        timings: dict[str, float] = {}
        heard = None
        if not has_text and wave is not None and transcribe and self.asr is not None:
            heard = spoken = self._transcribe(wave, timings)
            has_text = batch.heard_notes(heard)[0]
            text = heard.text if has_text else None
        given = {"text": has_text, "audio": wave is not None}
        use = batch.usable_modalities(self.spec, **given, features=audio_features is not None)
        for modality in MODALITIES:
            if given[modality] and not use[modality]:
                log.warning("the model was trained without %s; ignoring the %s", modality, modality)
        text_in = self._encode_text(text, timings) if use["text"] else None
        audio_in = self._encode_audio(wave, timings) if use["audio"] else None
        if audio_features is not None:
            audio_in = given_features(self.spec, self.model.config, "audio", audio_features)
        context = batch.input_context(wave, text if has_text else None, heard)
        context["notes"] = [*notes, *context.get("notes", [])]
        result = self._run(text_in, audio_in, timings, attribution, context, spoken, wave, past)
        return result, text_in, audio_in

    @property
    def aligner(self) -> WhisperASR:
        """The forced aligner of the time prior: the ASR's Whisper, or the embedded one."""
        if self._aligner is None:
            self._aligner = self.asr or WhisperASR("auto", threads=torch.get_num_threads())
        return self._aligner

    def check_compatible(self) -> None:
        """FeatureMismatchError when an encoder gives features of another dimension than the
        model takes; `predict` and `serve` check it before the first utterance."""
        batch.check_encoder_dims(self)

    def predict_batch(
        self,
        waves: list[np.ndarray | None],
        texts: list[str | None],
        *,
        transcribe: bool = True,
        batch_size: int = 16,
        word_times: list[Any] | None = None,
    ) -> list[UtteranceExplanation]:
        """`classify` for many utterances: ASR per recording, encoders and the fusion model
        per batch of `batch_size`. A bad item raises a DataError naming its index.
        `word_times`: per item, its transcript's word spans or None (as in `classify`)."""
        return predict_batch(
            self, waves, texts, transcribe=transcribe, batch_size=batch_size, word_times=word_times
        )

    def _transcribe(self, wave: np.ndarray, timings: dict[str, float]) -> Transcript:
        self.asr.load()  # on first use, outside the timing
        start = time.perf_counter()
        heard = self.asr.transcribe(wave)
        timings["asr"] = 1000 * (time.perf_counter() - start)
        return heard

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
        given = partial(given_features, self.spec, self.model.config)
        text_in = None if text_features is None else given("text", text_features, words)
        audio_in = None
        if audio_features is not None:
            audio_in = given("audio", audio_features, frame_times=frame_times)
        return self._run(text_in, audio_in, {})

    def _encoder(self, modality: str) -> Any:
        if self._encoders[modality] is None:
            if self.spec.is_record(modality):
                raise self.spec.record_error(modality)
            encoder = build_encoder(modality, self.spec)
            if self.backend == "onnxruntime" and modality == "text":
                from hri_emo.inference.onnx_text import onnx_text_encoder

                encoder = onnx_text_encoder(encoder)
            self._encoders[modality] = encoder
        return self._encoders[modality]

    def _encode_text(self, text: str, timings: dict[str, float]) -> UtteranceFeatures:
        return self.encode_texts([text], timings)[0]

    def _encode_audio(self, wave: np.ndarray, timings: dict[str, float]) -> UtteranceFeatures:
        return self.encode_waves([wave], timings)[0]

    def encode_texts(self, texts: list[str], timings: dict[str, float]) -> list[UtteranceFeatures]:
        """Model-ready text features of each transcript, encoded as one batch."""
        encoder = self.text_encoder
        texts = [self.spec.preprocess_text(t) for t in texts]
        start = time.perf_counter()
        if not hasattr(encoder, "encode"):  # a fine-tuned TrainableTextEncoder
            features, mask = encoder(texts)  # (B, T, D), (B, T)
            stored = [
                UtteranceFeatures(features[b][mask[b]].float().cpu().numpy(), list(words))
                for b, words in enumerate(encoder.last_words)
            ]
        else:
            stored = []
            for text, encoded in zip(texts, encoder.encode(texts)):
                array = flatten_layers(encoded.features, encoder.layer)
                self._check_dim("text", array, encoder)
                stored.append(self.spec.prepare("text", array, encoded.tokens, None, raw_text=text))
        timings["text_encoder"] = 1000 * (time.perf_counter() - start)
        return stored

    def encode_waves(
        self, waves: list[np.ndarray], timings: dict[str, float]
    ) -> list[UtteranceFeatures]:
        """Model-ready audio features of each recording, encoded as one batch."""
        encoder = self.audio_encoder
        start = time.perf_counter()
        stored = []
        for encoded in encoder.encode(list(waves)):
            array = flatten_layers(encoded.features, encoder.layer)
            self._check_dim("audio", array, encoder)
            stored.append(self.spec.prepare("audio", array, None, encoded.frame_times))
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
        text_in: UtteranceFeatures | None,
        audio_in: UtteranceFeatures | None,
        timings: dict[str, float],
        attribution: str = "attention",
        context: dict[str, Any] | None = None,
        spoken: Transcript | None = None,
        wave: np.ndarray | None = None,
        past: PastTurns | None = None,
    ) -> UtteranceExplanation:
        """One item through the batch path (`explain_items`), then its gradient attribution."""
        [exp] = batch.explain_items(
            self, [text_in], [audio_in], timings, [context or {}], [spoken], [wave], [past]
        )
        if attribution == "erasure":
            self._use_erasure(exp, text_in, audio_in, timings)
        elif attribution != "attention":
            from hri_emo.inference.attribution import (
                ModelInputs,
                check_attribution,
                use_gradient_attribution,
            )

            check_attribution(attribution)
            features = [None if x is None else x.features for x in (text_in, audio_in)]
            use_gradient_attribution(exp, self.model, ModelInputs(*features))
        return exp

    def _use_erasure(self, exp, text_in, audio_in, timings: dict[str, float]) -> None:
        """Replace the word map by word erasure (inference/erasure.py)."""
        from hri_emo.inference.erasure import use_erasure

        if text_in is None:
            return
        times = None
        trained_with_times = batch.uses_time_prior(self.model, self.spec.metadata("text"))
        if exp.word_times is not None and batch.takes_frame_times(self) and trained_with_times:
            times = np.array([(np.nan, np.nan) if t is None else t for t in exp.word_times])
        use_erasure(exp, self, audio_in, times, timings)

    # recognizer.explain_output(out, index, words, frame_times, **context): one item's result
    explain_output = batch.explain_output
