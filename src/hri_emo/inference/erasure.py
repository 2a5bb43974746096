"""Word erasure: what removing each word from the transcript does to each emotion's logit.

The contribution map (model/additive.py) splits every logit exactly over the model's *input
positions*: the text encoder's word vectors. Those vectors are contextual: MiniLM writes the
sentence's meaning into every word, so in "I am overjoyed" the vector of "am" already says
happy, and the exact map lights "am" about as often as "overjoyed" (measured on the demo's
held-out voices: the marked word tops the map in 0.49 of word-carried utterances, chance 0.33).
Erasure answers the question a user asks, about the *words*: the transcript is encoded again
without word k (same recording, same word times for the other words), and

    map[e, k] = logit_e(transcript) - logit_e(transcript without word k)

is in logit units, like the contribution map: red words raised the emotion, blue ones lowered it.
For single-label models it is read against the other emotions as results state every logit
(result.py `logits_centred`): map[e, k] - sum_j p_j map[j, k], with p the probabilities of the
whole transcript, the first-order fall of log p_e when word k is removed.
It is a measurement of the model, not a model of it (faithful by definition to the deletion of
one word), costs one extra batch of L transcripts through the text encoder and the fusion model
(docs/explanations.md gives the time), and needs the text encoder (a recognizer, or the encoder
named in a run's feature store).

Frame erasure (occlusion), its analogue for audio, measured less faithful than the exact frame
map in the deletion test (EmoDB AOPC 0.360 against 0.392; explain/faithfulness.py
`ErasureExplainer`, docs/explanations.md), so results keep the exact frame map.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from hri_emo.data.features import UtteranceFeatures
from hri_emo.inference.timing import matches_speech
from hri_emo.result import against_the_others

ERASURE_NOTE = (
    "Word map: erasure, each word's effect on each emotion's logit when it is removed from the "
    "transcript and the rest is encoded again."
)

# Erasure encodes L transcripts of about L words each, so its cost grows as L squared (measured
# with MiniLM, text only, on this 2-core CPU: 7 words 52 ms in all, 30 words 0.25 s, 64 words
# 1.1 s, 400 words 62 s). Longer transcripts keep the exact map, said so: no request can buy a
# minute of CPU with it.
MAX_ERASURE_WORDS = 64
LONG_TRANSCRIPT_NOTE = (
    f"Word map: the model's own contributions (erasure runs on transcripts of up to "
    f"{MAX_ERASURE_WORDS} words: its cost grows with the square of their number)."
)

SINGLE_WORD_NOTE = (
    "Word map: the model's own contributions (erasure needs a second word or a recording: "
    "without its only word the model would have no input at all)."
)

# encode(transcripts) -> model-ready text features (None for an empty transcript)
Encode = Callable[[list[str]], list[UtteranceFeatures | None]]
# score(text features, word times) -> (N, E) logits, the item's audio repeated N times
Score = Callable[[list[UtteranceFeatures | None], list[np.ndarray | None]], np.ndarray]


def without_each_word(words: Sequence[str]) -> list[str]:
    """The transcript without word k, for every k (empty when the only word is removed)."""
    return [" ".join([*words[:k], *words[k + 1 :]]) for k in range(len(words))]


def word_erasure(
    words: Sequence[str], encode: Encode, score: Score, times: np.ndarray | None = None
) -> np.ndarray:
    """(E, L) logit drops of `words` (the result's words, as the text encoder split them).

    `times` (L, 2): the words' spoken spans; a variant keeps the others' (the time prior then
    places them as before); a variant the encoder splits into another number of words gets none.
    """
    texts = [" ".join(words), *without_each_word(words)]
    encoded = encode(texts)
    spans: list[np.ndarray | None] = []
    for k, features in enumerate(encoded):
        kept = times if k == 0 or times is None else np.delete(times, k - 1, axis=0)
        fits = features is not None and kept is not None and features.length == len(kept)
        spans.append(kept if fits else None)
    logits = np.asarray(score(encoded, spans), dtype=np.float64)  # (L + 1, E)
    return (logits[0][None, :] - logits[1:]).T


def use_erasure(
    exp,
    recognizer,
    audio_in: UtteranceFeatures | None,
    times: np.ndarray | None = None,
    timings: dict[str, float] | None = None,
) -> None:
    """Replace `exp`'s word map by word erasure through `recognizer` (its text encoder and its
    fusion model, torch or ONNX) with the item's model-ready `audio_in`; `times` (L, 2): the
    words' spans for a model with the time prior. Without words nothing changes. The frame map
    stays the exact contribution map: frame erasure measured less faithful than it
    (docs/explanations.md)."""
    if not exp.words or exp.attribution is None:
        return
    if audio_in is None and len(exp.words) < 2:  # erasing the only input leaves nothing to run
        exp.notes.append(SINGLE_WORD_NOTE)
        return
    if len(exp.words) > MAX_ERASURE_WORDS:
        exp.notes.append(LONG_TRANSCRIPT_NOTE)
        return
    start = time.perf_counter()
    trusted = matches_speech(exp.alignment_confidence)
    drops = recognizer_erasure(recognizer, exp.words, audio_in, times, trusted)
    if exp.logits_centred:  # single-label: each drop read against the other emotions' drops
        drops = against_the_others(drops, np.array([exp.probabilities[e] for e in exp.emotions]))
    exp.attribution = drops
    exp.attribution_method = "erasure"
    exp.notes.append(ERASURE_NOTE)
    elapsed = 1000 * (time.perf_counter() - start)
    if timings is not None:
        timings["word_erasure"] = elapsed
    if isinstance(getattr(exp, "timings_ms", None), dict):
        exp.timings_ms["word_erasure"] = elapsed


def recognizer_erasure(
    recognizer,
    words: Sequence[str],
    audio_in: UtteranceFeatures | None,
    times: np.ndarray | None,
    trusted: bool = True,
) -> np.ndarray:
    """`word_erasure` through a recognizer's text encoder and fusion model, given the inputs the
    result's own forward pass had (inference/batch.py `model_inputs`; `trusted`: False for a
    transcript the aligner found not to match the speech)."""
    import torch

    from hri_emo.inference.batch import model_inputs

    def encode(texts: list[str]) -> list[UtteranceFeatures | None]:
        kept = [t for t in texts if t.strip()]
        encoded = iter(recognizer.encode_texts(kept, {}) if kept else [])
        return [next(encoded) if t.strip() else None for t in texts]

    def score(text_in: list, spans: list) -> np.ndarray:
        count = len(text_in)
        inputs = model_inputs(recognizer, text_in, [audio_in] * count, spans, [trusted] * count)
        with torch.no_grad():
            return recognizer.runner(**inputs).logits.double().cpu().numpy()

    return word_erasure(words, encode, score, times)
