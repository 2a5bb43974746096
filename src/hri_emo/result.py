"""`UtteranceExplanation`: the one result type, from the recognizer to every consumer.

The recognizer (`classify*`), corpus explanation, `predict`, the HTML report and the server all
read this object; consumers format it, they do not recompute it. Dimension letters: E emotions,
Lt words (text positions), La audio frames, d hidden size.

- `alignment` (Lt, La): which audio frames each word attended to (last fusion layer).
- `attribution` (E, Lt): which words drove each emotion (emotion queries -> fused word axis).
- `frame_attribution` (E, La): which audio frames drove each emotion: attribution rolled out
  through the alignment (attribution @ alignment), or the audio-only model's own attribution.
  `attribution_method` says whether these are attention maps, Integrated Gradients, or
  "contribution": models with the additive read-out (hriemo-v2) give each emotion's exact logit
  contributions, signed, in logit units: what each word said (`attribution`) and what each
  audio frame said (`frame_attribution`); with `logit_sources[e]["bias"]` (and the context
  turns) they sum to the logit. "erasure" (`attribution="erasure"`): logit drops when each word
  is removed from the transcript (measured, they do not sum); the frame map stays exact.
- `logit_sources` (models with the pooled read-out): per emotion, how much of its logit came
  from the emotion decoder (explained by the maps above) and from the pooled text and audio
  read-outs (a linear probe of the mean features, weighted by 1 - beta and beta).
- `logits_centred` (single-label models): a softmax's logits are defined only up to a constant
  shared by all emotions, so a position that raises every logit alike changes no probability.
  Every value in logit units (the contribution and erasure maps, `logit_sources`) is then read
  against the other emotions: emotion e's value minus the probability-weighted mean over the
  emotions (`against_the_others`), the first-order change of log p_e. Each emotion's parts then
  sum to its centred logit, log p_e - sum_j p_j log p_j (`centred_logit`). Multi-label
  (sigmoid) logits are absolute and stay as they are.
- `beta_per_word` (Lt,): how much audio each word's fused state took (mean over dimensions),
  `beta_std_per_word` its spread over dimensions, `beta_per_dim` (d,) the mean over words.

Any map a model does not produce is None, and `notes` says why in a sentence for the user.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import torch

from hri_emo.model.output import HriEmoOutput

ARRAY_FIELDS = (
    "frame_times",
    "alignment",
    "attribution",
    "frame_attribution",
    "beta_per_word",
    "beta_std_per_word",
    "beta_per_dim",
    "envelope",
    "context_attribution",
    "audio_reliability",
)
ENVELOPE_HOP_S = 0.01  # one RMS value per 10 ms of audio
TRANSCRIPT_SOURCES = ("given", "asr", "corpus")  # where `transcript` came from


@dataclass
class UtteranceExplanation:
    """Prediction for one utterance, the full explanation maps, and where its inputs came from."""

    emotions: list[str]
    task: str  # "multilabel" or "singlelabel"
    probabilities: dict[str, float]  # sigmoid per emotion (multi-label) or softmax over classes
    predicted: list[str]  # multi-label: emotions at or above threshold; single-label: [class]
    thresholds: dict[str, float] | None = None  # multi-label decision thresholds
    beta_mean: float | None = None  # 1 = audio trusted, 0 = text trusted
    words: list[str] = field(default_factory=list)  # one per text position
    frame_times: np.ndarray | None = None  # (La, 2) start, end in seconds
    alignment: np.ndarray | None = None  # (Lt, La) rows sum to 1
    attribution: np.ndarray | None = None  # (E, Lt) rows sum to 1 over words (+ context turns)
    frame_attribution: np.ndarray | None = None  # (E, La)
    beta_per_word: np.ndarray | None = None  # (Lt,)
    beta_std_per_word: np.ndarray | None = None  # (Lt,)
    beta_per_dim: np.ndarray | None = None  # (d,)
    # (La,) how clean each audio frame was judged, 0..1 (models with audio reliability): each
    # word's beta was scaled by the reliability of the frames it attends to
    audio_reliability: np.ndarray | None = None
    # how complete the transcript was judged from its word rate, 0..1 (models with transcript
    # reliability): the text's share of beta was scaled by it
    transcript_reliability: float | None = None
    transcript: str | None = None
    transcript_source: str | None = None  # one of TRANSCRIPT_SOURCES
    word_times: list[tuple[float, float] | None] | None = None  # spoken span of each word (s)
    asr_confidence: float | None = None  # mean word probability of the ASR transcript
    # how well the transcript's words were placed in the recording (forced alignment, mean word
    # probability); low when the transcript does not match the speech (inference/timing.py)
    alignment_confidence: float | None = None
    duration_s: float | None = None  # recording length
    envelope: np.ndarray | None = None  # RMS energy every ENVELOPE_HOP_S seconds
    utterance_id: str | None = None
    true_labels: list[str] | None = None  # corpus utterances: the annotated emotions
    metadata: dict[str, Any] = field(default_factory=dict)  # corpus utterances: speaker, ...
    # "contribution" (hriemo-v2's exact maps), "attention", "integrated-gradients" or "erasure"
    attribution_method: str = "attention"
    timings_ms: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # conversation context (models trained with data.context_turns): the past turns' utterance
    # ids, newest first, and each emotion's attention on them (E, K), in the same softmax as
    # `attribution`, so per emotion words + context turns sum to 1
    context_turns: list[str] | None = None
    context_attribution: np.ndarray | None = None
    # models with `pooled_readout`: emotion -> {"decoder", "pooled_text", "pooled_audio"}, the
    # parts of the emotion's logit (they sum to it)
    logit_sources: dict[str, dict[str, float]] | None = None
    # single-label models: logit-unit values are read against the other emotions (see above)
    logits_centred: bool = False

    # -- views ------------------------------------------------------------------------------

    @property
    def word_attribution(self) -> dict[str, list[float]]:
        """emotion -> weight per word ({} when the model gives no word attribution)."""
        if self.attribution is None or not self.words:
            return {}
        return {e: self.attribution[i].tolist() for i, e in enumerate(self.emotions)}

    @property
    def word_to_audio(self) -> list[tuple[float, float] | None]:
        """Per word: the span (s) of its most attended audio frame, or None."""
        if self.alignment is None or self.frame_times is None or not self.words:
            return [None] * len(self.words)
        best = self.alignment.argmax(axis=-1)
        return [tuple(map(float, self.frame_times[j])) for j in best]

    def top_words(self, emotion: str, k: int = 3) -> list[tuple[str, float]]:
        """The k words that drove `emotion` most (highest attribution first)."""
        weights = self.word_attribution.get(emotion, [])
        order = np.argsort(weights)[::-1][:k]
        return [(self.words[i], float(weights[i])) for i in order]

    def context_weights(self, emotion: str) -> list[tuple[str, float]]:
        """(past turn id, weight) for `emotion`, newest turn first ([] without context)."""
        if self.context_attribution is None or not self.context_turns:
            return []
        row = self.context_attribution[self.emotions.index(emotion)]
        return [(turn, float(w)) for turn, w in zip(self.context_turns, row)]

    def logit_label(self, emotion: str) -> str:
        """ "logit of happy" (" against the others" when `logits_centred`)."""
        return f"logit of {emotion}" + (" against the others" if self.logits_centred else "")

    def centred_logit(self, emotion: str) -> float:
        """log p_e - sum_j p_j log p_j: what `emotion`'s parts sum to when `logits_centred`."""
        p = np.array([self.probabilities[e] for e in self.emotions], dtype=np.float64)
        logs = np.log(np.clip(p, 1e-300, None))
        return float(logs[self.emotions.index(emotion)] - p @ logs)

    def logit_split(self, emotion: str) -> str:
        """ "decoder +1.20, pooled text +0.40, pooled audio -0.10" ("" without the read-out)."""
        if not self.logit_sources:
            return ""
        parts = self.logit_sources[emotion].items()
        return ", ".join(f"{name.replace('_', ' ')} {value:+.2f}" for name, value in parts)

    def top_frames(self, emotion: str, k: int = 3) -> list[tuple[tuple[float, float], float]]:
        """The k audio frames (their spans in s) that drove `emotion` most."""
        if self.frame_attribution is None or self.frame_times is None:
            return []
        row = self.frame_attribution[self.emotions.index(emotion)]
        order = np.argsort(row)[::-1][:k]
        return [(tuple(map(float, self.frame_times[j])), float(row[j])) for j in order]

    # -- serialisation ----------------------------------------------------------------------

    def to_dict(self, maps: bool = True) -> dict[str, Any]:
        """JSON-ready dict; `maps=False` leaves out the arrays (a compact answer)."""
        result: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ARRAY_FIELDS:
                if not maps:
                    continue
                value = None if value is None else _finite_list(value)
            elif f.name == "word_times" and value is not None:
                value = [None if span is None else [float(s) for s in span] for span in value]
            result[f.name] = _json_float(value)
        result["top_words"] = {e: self.top_words(e) for e in self.emotions if self.words}
        return result

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UtteranceExplanation:
        """Inverse of `to_dict()` (extra keys such as `top_words` are ignored)."""
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        for name in ARRAY_FIELDS:
            if kwargs.get(name) is not None:
                kwargs[name] = np.asarray(kwargs[name], dtype=np.float64)
        if kwargs.get("word_times") is not None:
            kwargs["word_times"] = [None if s is None else tuple(s) for s in kwargs["word_times"]]
        return cls(**kwargs)


def explanation_from_output(
    out: HriEmoOutput,
    index: int,
    *,
    emotions: list[str],
    task: str,
    decision: np.ndarray,
    words: list[str],
    frame_times: np.ndarray | None,
    thresholds: list[float] | None = None,
    attribution_over: str = "words",
    **context: Any,
) -> UtteranceExplanation:
    """The explanation of item `index` of a model output.

    `words`: the item's text positions ([] without text); `frame_times`: its (La, 2) audio
    frame spans (None without audio); `decision`: its row of `training.metrics.predictions`;
    `attribution_over`: the axis of a single-modality baseline's attribution (see
    `attribution_axis`).
    `context`: further UtteranceExplanation fields (transcript, duration_s, utterance_id, ...).
    """
    probs = out.probabilities[index].double().cpu().numpy()
    if task == "multilabel":
        predicted = [e for e, flag in zip(emotions, decision) if flag]
    else:
        predicted = [emotions[int(decision)]]
    n_words, n_frames = len(words), 0 if frame_times is None else len(frame_times)
    maps = _maps(out, index, n_words, n_frames, attribution_over)
    if out.context_attribution is not None and context.get("context_turns"):
        turns = len(context["context_turns"])
        weights = out.context_attribution[index, :, :turns]  # (E, K) past turns, newest first
        maps["context_attribution"] = weights.detach().double().cpu().numpy()
    if out.pooled_share is not None:
        maps["logit_sources"] = _logit_sources(out, index, emotions)
    if out.word_contributions is not None:
        maps.update(_contribution_maps(out, index, emotions, n_words, n_frames, context))
    if centres_logits(task) and "logit_sources" in maps:
        _centre(maps, probs)
    notes = list(context.pop("notes", [])) + _notes(out, n_words, n_frames)
    return UtteranceExplanation(
        emotions=list(emotions),
        task=task,
        probabilities=dict(zip(emotions, probs.tolist())),
        predicted=predicted,
        thresholds=None if thresholds is None else dict(zip(emotions, map(float, thresholds))),
        beta_mean=None if out.beta_mean is None else float(out.beta_mean[index]),
        words=list(words),
        frame_times=None if frame_times is None else np.asarray(frame_times, dtype=np.float64),
        notes=notes,
        **maps,
        **context,
    )


def _maps(
    out: HriEmoOutput, i: int, n_words: int, n_frames: int, attribution_over: str
) -> dict[str, Any]:
    """The item's maps cut to its real words and frames, as float64 numpy arrays."""

    def numpy(t: torch.Tensor | None) -> np.ndarray | None:
        return None if t is None else t[i].detach().double().cpu().numpy()

    alignment, attribution, beta = numpy(out.alignment), numpy(out.attribution), numpy(out.beta)
    maps: dict[str, Any] = {}
    if alignment is not None and n_words and n_frames:
        maps["alignment"] = alignment[:n_words, :n_frames]
    if attribution is not None and alignment is not None:  # fused word axis
        if n_words:
            maps["attribution"] = attribution[:, :n_words]
        if n_frames:
            rows = max(n_words, 1)  # without text: the one placeholder position
            maps["frame_attribution"] = attribution[:, :rows] @ alignment[:rows, :n_frames]
    elif attribution is not None:  # a single-modality baseline: its own axis
        if attribution_over == "frames" and n_frames:
            maps["frame_attribution"] = attribution[:, :n_frames]
        elif attribution_over == "words" and n_words:
            maps["attribution"] = attribution[:, :n_words]
    reliability = numpy(getattr(out, "frame_reliability", None))
    if reliability is not None and n_frames:
        maps["audio_reliability"] = reliability[:n_frames]
    completeness = numpy(getattr(out, "transcript_reliability", None))
    if completeness is not None and n_words and n_frames:  # judged only with both
        maps["transcript_reliability"] = float(completeness)
    if beta is not None and n_words:
        per_word = beta[:n_words]  # (Lt, d)
        maps["beta_per_word"] = per_word.mean(axis=-1)
        maps["beta_std_per_word"] = per_word.std(axis=-1)
        maps["beta_per_dim"] = per_word.mean(axis=0)
    return maps


def _contribution_maps(
    out: HriEmoOutput, i: int, emotions: list[str], n_words: int, n_frames: int, context: dict
) -> dict[str, Any]:
    """The additive read-out's exact maps: signed logit contributions of words and frames, and
    each logit's split into words / audio / context / bias (which sum to it)."""

    def numpy(t: torch.Tensor) -> np.ndarray:
        return t[i].detach().double().cpu().numpy()

    words, frames, bias = (
        numpy(out.word_contributions),
        numpy(out.frame_contributions),
        numpy(out.bias_contribution),
    )
    turns = numpy(out.context_contributions) if out.context_contributions is not None else None
    maps: dict[str, Any] = {"attribution_method": "contribution"}
    maps["attribution"] = words[:, :n_words] if n_words else None
    maps["frame_attribution"] = frames[:, :n_frames] if n_frames else None
    if turns is not None and context.get("context_turns"):
        maps["context_attribution"] = turns[:, : len(context["context_turns"])]
    sources = {}
    for k, emotion in enumerate(emotions):
        parts = {"words": float(words[k].sum()), "audio": float(frames[k].sum())}
        if turns is not None:
            parts["context"] = float(turns[k].sum())
        sources[emotion] = {**parts, "bias": float(bias[k])}
    maps["logit_sources"] = sources
    return maps


def centres_logits(task: str) -> bool:
    """Whether results of a model with this task read logit-unit values against the other
    emotions (`logits_centred`): single-label (softmax) models."""
    return task == "singlelabel"


def against_the_others(values: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Per-emotion values (E, ...) read against the other emotions: each emotion's row minus the
    probability-weighted mean row (`probabilities` (E,)). For logit parts under a softmax this is
    their first-order effect on log p_e, and it is the same whichever constant the logits carry."""
    values = np.asarray(values, dtype=np.float64)
    return values - np.tensordot(probabilities, values, axes=1)


def _centre(maps: dict[str, Any], probabilities: np.ndarray) -> None:
    """Single-label: the maps in logit units and `logit_sources`, read against the others."""
    if maps.get("attribution_method") == "contribution":
        for name in ("attribution", "frame_attribution", "context_attribution"):
            if maps.get(name) is not None:
                maps[name] = against_the_others(maps[name], probabilities)
    sources = maps["logit_sources"]
    emotions = list(sources)
    for part in sources[emotions[0]]:
        centred = against_the_others([sources[e][part] for e in emotions], probabilities)
        for emotion, value in zip(emotions, centred):
            sources[emotion][part] = float(value)
    maps["logits_centred"] = True


def _logit_sources(out: HriEmoOutput, i: int, emotions: list[str]) -> dict[str, dict[str, float]]:
    shares = out.pooled_share[i].detach().double().cpu().numpy()  # (E, 2) text, audio
    decoder = out.logits[i].detach().double().cpu().numpy() - shares.sum(axis=-1)
    return {
        e: {"decoder": float(d), "pooled_text": float(t), "pooled_audio": float(a)}
        for e, d, (t, a) in zip(emotions, decoder, shares)
    }


def _notes(out: HriEmoOutput, n_words: int, n_frames: int) -> list[str]:
    notes = []
    if not n_words:
        notes.append("No transcript: word attribution, alignment and beta per word are not shown.")
    if not n_frames:
        notes.append("No audio: the alignment map and frame attribution are not shown.")
    if out.alignment is None and n_words and n_frames:
        notes.append(
            "This model (a baseline without cross-modal attention) gives no alignment map."
        )
    if out.attribution is None:
        notes.append("This model gives no attribution map (it pools its inputs).")
    if out.beta is None and out.beta_mean is None:
        notes.append("This model has no modality gate: beta is not defined.")
    return notes


def attribution_axis(model: torch.nn.Module) -> str:
    """ "frames" for the audio-only baseline, whose attribution is over audio frames; else
    "words" (HriEmoModel's fused axis is the word axis)."""
    return "frames" if getattr(model, "modality", "") == "audio" else "words"


def waveform_envelope(wave: np.ndarray, sample_rate: int = 16000) -> np.ndarray:
    """RMS energy per ENVELOPE_HOP_S of a mono waveform (what the figures draw under the maps)."""
    hop = max(1, round(ENVELOPE_HOP_S * sample_rate))
    usable = len(wave) // hop * hop
    if usable == 0:
        return np.zeros(1)
    frames = np.asarray(wave[:usable], dtype=np.float64).reshape(-1, hop)
    return np.sqrt((frames**2).mean(axis=1))


def _finite_list(array: np.ndarray) -> list:
    return _json_float(np.asarray(array, dtype=np.float64).tolist())


def _json_float(value: Any) -> Any:
    """NaN/Inf are not JSON: they become None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_json_float(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_float(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_json_float(v) for v in value]
    return value


# -- the predictions-file dialect of `hri-emo evaluate` and `hri-emo predict` ------------------


def prediction_columns(emotions: list[str]) -> list[str]:
    """The decision and probability columns of every predictions file: "predicted" (the
    predicted emotions joined by ";") and "p_<emotion>" per emotion."""
    return ["predicted", *(f"p_{e}" for e in emotions)]


def prediction_row(emotions: list[str], predicted: list[str], probabilities: Any) -> dict[str, Any]:
    """The `prediction_columns` of one utterance (`probabilities` in `emotions` order)."""
    return {
        "predicted": ";".join(predicted),
        **dict(zip(prediction_columns(emotions)[1:], probabilities)),
    }
