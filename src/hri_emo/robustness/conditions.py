"""Named corruption conditions: what `hri-emo robustness` evaluates a run under.

A condition corrupts one channel of the evaluated split:
- "wave": the recordings (re-encoded through the run's own audio encoder);
- "text": the transcripts (re-encoded through the run's text encoder);
- "feature": the audio features themselves, for corpora without recordings;
- "missing": a whole modality left out; "clean": nothing.

Names are `<kind>-<level>`, e.g. `white-10db`, `babble-0db`, `feature-noise-20db`, `gain--20db`,
`clip-20pct`, `word-dropout-30pct`, `word-swap-30pct` (random substitution), `asr-like-20pct`,
`telephone`, `noise-only` (the recording replaced by white noise of its power), `whisper-asr`,
`whisper-asr-0db` (Whisper's transcript of the recording with white noise at 0 dB; the model
still hears the clean recording), `no-audio`, `no-text`, `clean`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hri_emo.errors import ConfigError
from hri_emo.robustness.corruptions import GAIN_RANGE_DB, SNR_RANGE_DB, check_range

SNRS_DB = (20, 10, 0)
DROPOUT_RATES = (10, 30, 50)


@dataclass(frozen=True)
class Condition:
    """One corruption: its name, the channel it acts on, and its level (dB, % or None)."""

    name: str
    kind: str  # "clean", "wave", "text", "feature", "missing"
    family: str  # table section: "audio noise", "audio degradation", "text", "missing"
    corruption: str  # white, babble, telephone, clip, gain, word-dropout, asr-like, ...
    level: float | None = None

    @property
    def needs_recordings(self) -> bool:
        return self.kind == "wave" or self.corruption == "whisper-asr"


PATTERN = re.compile(
    r"^(?P<what>white|babble|feature-noise|gain|clip|word-dropout|word-swap|asr-like|whisper-asr)-"
    r"(?P<level>-?\d+(?:\.\d+)?)(?P<unit>db|pct)$"
)
UNITS = {
    "white": "db",
    "babble": "db",
    "feature-noise": "db",
    "gain": "db",
    "clip": "pct",
    "word-dropout": "pct",
    "word-swap": "pct",
    "asr-like": "pct",
    "whisper-asr": "db",
}


def parse_condition(name: str) -> Condition:
    """A Condition from its name, or a ConfigError saying what is accepted."""
    fixed = {
        "clean": Condition("clean", "clean", "clean", "none"),
        "telephone": Condition("telephone", "wave", "audio degradation", "telephone"),
        "noise-only": Condition("noise-only", "wave", "audio noise", "noise-only"),
        "whisper-asr": Condition("whisper-asr", "text", "text", "whisper-asr"),
        "no-audio": Condition("no-audio", "missing", "missing", "audio"),
        "no-text": Condition("no-text", "missing", "missing", "text"),
    }
    if name in fixed:
        return fixed[name]
    match = PATTERN.match(name)
    if not match or UNITS[match["what"]] != match["unit"]:
        raise ConfigError(
            f"unknown robustness condition {name!r}; expected clean, telephone, noise-only, "
            "whisper-asr, no-audio, no-text, white-<SNR>db, babble-<SNR>db, feature-noise-<SNR>db, "
            "gain-<dB>db, clip-<percentile>pct, word-dropout-<pct>pct, word-swap-<pct>pct, "
            "asr-like-<pct>pct or whisper-asr-<SNR>db"
        )
    what, level = match["what"], float(match["level"])
    if match["unit"] == "db":
        bounds = GAIN_RANGE_DB if what == "gain" else SNR_RANGE_DB
        check_range(f"condition {name}", level, bounds, " dB")
    else:
        check_range(f"condition {name}", level, (0, 90), " %")
    if what in ("white", "babble"):
        return Condition(name, "wave", "audio noise", what, level)
    if what == "whisper-asr":  # transcripts of a noisy copy; the model hears the clean one
        return Condition(name, "text", "text", what, level)
    if what == "feature-noise":
        return Condition(name, "feature", "audio noise", what, level)
    if what in ("gain", "clip"):
        return Condition(name, "wave", "audio degradation", what, level)
    return Condition(name, "text", "text", what, level)


def default_conditions(has_recordings: bool) -> list[Condition]:
    """The issue's condition set: waveform noise when the corpus has recordings, feature noise
    when it does not; degradations and real ASR only with recordings."""
    names = ["clean"]
    if has_recordings:
        names += [f"white-{s}db" for s in SNRS_DB] + [f"babble-{s}db" for s in SNRS_DB]
        names += ["telephone", "clip-20pct", "gain--20db"]
    else:
        names += [f"feature-noise-{s}db" for s in SNRS_DB]
    names += [f"word-dropout-{r}pct" for r in DROPOUT_RATES] + ["asr-like-20pct"]
    if has_recordings:
        names.append("whisper-asr")
    names += ["no-audio", "no-text"]
    return [parse_condition(n) for n in names]
