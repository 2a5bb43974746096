"""eGeMAPS v02 acoustic parameters through openSMILE (optional extra `hri-emo[egemaps]`).

pooling="mean": the 88 eGeMAPS functionals of the whole utterance (statistics over the
utterance, as the feature set defines them - not a plain mean); pooling="none": the 25
low-level descriptors every 10 ms (20/60 ms windows) with their frame times.
openSMILE's licence allows research and education use only; commercial use needs a licence
from audEERING. That is why it is not installed by default.
"""

from __future__ import annotations

import numpy as np

from hri_emo.encoders.base import EncodedAudio, check_pooling, encoder_metadata
from hri_emo.encoders.chunks import SAMPLE_RATE, check_waves
from hri_emo.errors import ConfigError

MISSING_OPENSMILE = (
    "the 'egemaps' encoder needs openSMILE, which is not installed. Install the optional extra: "
    "pip install 'hri-emo[egemaps]' (openSMILE's licence is research/education only)."
)


class EgemapsEncoder:
    """`encode(waves)` -> eGeMAPS functionals (88,) or low-level descriptors (T, 25)."""

    modality = "audio"
    sample_rate = SAMPLE_RATE

    def __init__(self, layer: str | int = "last", pooling: str = "mean") -> None:
        try:
            import opensmile
        except ImportError as err:
            raise ConfigError(MISSING_OPENSMILE) from err
        if layer != "last":
            raise ConfigError(f"'egemaps' has no layers; got layer={layer!r} (use 'last')")
        self.name = "egemaps"
        self.layer = "last"
        self.pooling = check_pooling(pooling, ("none", "mean"))
        level = (
            opensmile.FeatureLevel.Functionals
            if self.pooling == "mean"
            else opensmile.FeatureLevel.LowLevelDescriptors
        )
        self.smile = opensmile.Smile(
            feature_set=opensmile.FeatureSet.eGeMAPSv02, feature_level=level
        )
        self.feature_names = list(self.smile.feature_names)
        self.dim = len(self.feature_names)
        self.revision = f"opensmile=={opensmile.__version__}/eGeMAPSv02"

    @property
    def metadata(self):
        return encoder_metadata(self, "audio", layer="last", feature_names=self.feature_names)

    def encode(self, waves: list[np.ndarray]) -> list[EncodedAudio]:
        check_waves(waves)
        return [self._encode_one(wave) for wave in waves]

    def _encode_one(self, wave: np.ndarray) -> EncodedAudio:
        table = self.smile.process_signal(np.asarray(wave, dtype=np.float32), SAMPLE_RATE)
        values = table.to_numpy(dtype=np.float32)  # (T, dim)
        if self.pooling == "mean":
            return EncodedAudio(values[0], None)
        starts = table.index.get_level_values("start").total_seconds()
        ends = table.index.get_level_values("end").total_seconds()
        return EncodedAudio(values, np.stack([starts, ends], axis=1).astype(np.float32))
