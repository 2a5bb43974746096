"""`Dialogue`: the state of one conversation, so that each turn is read with the ones before.

    dialogue = recognizer.dialogue()                       # keeps the model's context_turns
    dialogue.classify(text="We won the final!", speaker="user")
    result = dialogue.classify(text="okay", speaker="user")
    result.context_turns, result.context_weights("happy")  # ["turn-0"], [("turn-0", 0.41)]

Each turn runs the normal pipeline (`EmotionRecognizer.classify`: same checks, same
UtteranceExplanation) with the last k turns as the model's `context` (k = the model's
`context_turns`), then is appended. A past turn is what training gives the model
(data/dataset.py): the pooled text vector of its model-ready features (`pool_turn`), newest
first, flagged when the current speaker said it (`same_speaker`), with the pooled vector of its
audio features too when the model reads the audio of past turns (data.context_audio; a turn
without a recording has none, as in training). A turn without a usable
transcript (audio only, or nothing heard by the ASR) keeps its place in the window of k, as a
turn without text features does in training: a model that reads the audio of past turns reads
it from its voice alone (a laugh, a sigh), any other model gets no vector from it. A turn that
is refused (bad input) leaves the state unchanged.

Where the model cannot read context (trained with context_turns=0, the onnxruntime backend, or
a fine-tuned text encoder, whose training read past turns from the frozen store features), the
dialogue still answers, each turn on its own, with a note saying so.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from hri_emo.data.dialogues import same_speaker
from hri_emo.errors import ConfigError
from hri_emo.result import UtteranceExplanation

EmotionRecognizer = Any  # the recognizer creates dialogues: no import back (a cycle)


@dataclass
class PastTurns:
    """The model's context for one utterance: K past turns, newest first."""

    ids: list[str]  # "turn-3", ...
    vectors: np.ndarray  # (K, Dt) pooled text features
    same_speaker: np.ndarray  # (K,) bool
    audio: np.ndarray | None = None  # (K, Da) pooled audio features (zeros: the turn had none)
    audio_present: np.ndarray | None = None  # (K,) bool
    text_present: np.ndarray | None = None  # (K,) bool (with audio): False, heard only


@dataclass
class Turn:
    id: str
    speaker: str | None
    vector: np.ndarray | None  # (Dt,); None: no usable transcript
    audio: np.ndarray | None = None  # (Da,) pooled audio; None: no recording or not read


def pad_context(past: list[PastTurns | None], device: torch.device | str) -> dict[str, Any]:
    """The model's (B, K, Dt) context, (B, K) mask and same-speaker flags (as collate_batch
    pads them: an item without past turns gets an all-False mask)."""
    present = [p for p in past if p is not None]
    turns, dim = max(len(p.ids) for p in present), present[0].vectors.shape[-1]
    vectors = np.zeros((len(past), turns, dim), dtype=np.float32)
    mask = np.zeros((len(past), turns), dtype=bool)
    same = np.zeros((len(past), turns), dtype=bool)
    for b, item in enumerate(past):
        if item is not None:
            k = len(item.ids)
            vectors[b, :k], mask[b, :k], same[b, :k] = item.vectors, True, item.same_speaker
    arrays = {"context": vectors, "context_mask": mask, "context_same_speaker": same}
    if any(p.audio is not None for p in present):
        arrays |= _pad_audio(past, turns)
    return {key: torch.from_numpy(array).to(device) for key, array in arrays.items()}


def _pad_audio(past: list[PastTurns | None], turns: int) -> dict[str, np.ndarray]:
    """(B, K, Da) pooled audio of the past turns, its (B, K) presence mask and the (B, K) mask
    of the turns with text."""
    dim = next(p.audio.shape[-1] for p in past if p is not None and p.audio is not None)
    audio = np.zeros((len(past), turns, dim), dtype=np.float32)
    present = np.zeros((len(past), turns), dtype=bool)
    worded = np.zeros((len(past), turns), dtype=bool)
    for b, item in enumerate(past):
        if item is None:
            continue
        k = len(item.ids)
        worded[b, :k] = True if item.text_present is None else item.text_present
        if item.audio is not None:
            audio[b, :k], present[b, :k] = item.audio, item.audio_present
    return {"context_audio": audio, "context_audio_mask": present, "context_text_mask": worded}


def context_turns_of(recognizer: EmotionRecognizer) -> tuple[int, str | None]:
    """(k, why the model cannot read context or None)."""
    k = int(getattr(recognizer.model.config, "context_turns", 0) or 0)
    if k == 0:
        return 0, "the model was trained without conversation context (context_turns=0)"
    if recognizer.backend != "torch":
        return 0, f"the {recognizer.backend} backend runs the model without context"
    if recognizer.spec.finetuned_text:
        return 0, (
            "the model's text encoder was fine-tuned, and past turns were read from the frozen "
            "features in training: context is not used at inference"
        )
    return k, None


class Dialogue:
    """The last `max_turns` turns of one conversation (default and maximum: the model's
    context_turns). Thread-safe: turns of one dialogue are classified one at a time."""

    def __init__(self, recognizer: EmotionRecognizer, max_turns: int | None = None) -> None:
        self.recognizer = recognizer
        k, self.unused_reason = context_turns_of(recognizer)
        whole = isinstance(max_turns, int) and not isinstance(max_turns, bool)
        if max_turns is not None and not (whole and 0 <= max_turns <= k):
            raise ConfigError(
                f"max_turns={max_turns}: this model reads 0 to {k} past turns"
                + (f" ({self.unused_reason})" if self.unused_reason else "")
            )
        self.max_turns = k if max_turns is None else max_turns
        self._window: deque[Turn] = deque(maxlen=self.max_turns or None)
        self._count = 0  # turns classified so far (numbers the turn ids)
        self._lock = threading.Lock()

    @property
    def uses_context(self) -> bool:
        return self.max_turns > 0

    @property
    def turns(self) -> list[str]:
        """Ids of the turns kept as context, newest first."""
        return [turn.id for turn in reversed(self._window)]

    def __len__(self) -> int:
        return len(self._window)

    @property
    def nbytes(self) -> int:
        """Bytes of features the state holds (at most k text and k audio vectors)."""
        vectors = [v for t in self._window for v in (t.vector, t.audio) if v is not None]
        return sum(v.nbytes for v in vectors)

    def reset(self) -> None:
        """Forget the past turns (a new conversation); turn ids keep counting."""
        with self._lock:
            self._window.clear()

    def classify(
        self,
        wave: np.ndarray | None = None,
        text: str | None = None,
        speaker: str | None = None,
        sample_rate: int = 16000,
        *,
        audio_features: np.ndarray | None = None,
        transcribe: bool = True,
        word_times: Sequence[tuple[float, float] | None] | None = None,
        attribution: str = "attention",
    ) -> UtteranceExplanation:
        """`recognizer.classify(wave, text, sample_rate)` with the past turns as context; the
        result's utterance_id is this turn's id ("turn-N"), `context_turns` the past turns it
        read and `context_attribution` their weights. Then the turn is kept. `audio_features`
        instead of `wave`: features a recording cannot give (a model trained on precomputed
        functionals), as in `recognizer.classify`."""
        with self._lock:
            past = self._past(speaker)
            result, vector, audio = self.recognizer.classify_turn(
                wave,
                text,
                sample_rate,
                audio_features=audio_features,
                transcribe=transcribe,
                word_times=word_times,
                attribution=attribution,
                past=past,
            )
            turn = Turn(f"turn-{self._count}", speaker, vector, audio)
            self._count += 1
            result.utterance_id = turn.id
            if self.unused_reason is not None:
                result.notes.append(f"Dialogue: {self.unused_reason}; each turn is read alone.")
            elif vector is None and audio is not None:
                result.notes.append(
                    "Dialogue: no usable transcript; later turns read this turn from its voice."
                )
            elif vector is None:
                result.notes.append(
                    "Dialogue: no usable transcript, so this turn gives later turns no context."
                )
            if self.max_turns:
                self._window.append(turn)
            return result

    def _past(self, speaker: str | None) -> PastTurns | None:
        """The window's turns with a text or audio vector, newest first (None when none has)."""
        kept = [t for t in reversed(self._window) if t.vector is not None or t.audio is not None]
        if not kept:
            return None
        unheard = np.zeros(self.recognizer.model.config.text_dim, dtype=np.float32)
        past = PastTurns(
            ids=[turn.id for turn in kept],
            vectors=np.stack([unheard if t.vector is None else t.vector for t in kept]),
            same_speaker=np.array([same_speaker(t.speaker, speaker) for t in kept], dtype=bool),
        )
        voiced = [turn.audio for turn in kept if turn.audio is not None]
        if voiced:
            past.audio = np.stack([np.zeros_like(voiced[0]) if t.audio is None else t.audio
                                   for t in kept])  # fmt: skip
            past.audio_present = np.array([t.audio is not None for t in kept], dtype=bool)
            past.text_present = np.array([t.vector is not None for t in kept], dtype=bool)
        return past
