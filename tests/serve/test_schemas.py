"""The server's `ExplanationBody` against `UtteranceExplanation`, field by field, so the
documented answer cannot drift from the result the recognizer gives."""

from __future__ import annotations

import typing
from dataclasses import fields

import numpy as np

from hri_emo.result import ARRAY_FIELDS, TRANSCRIPT_SOURCES, UtteranceExplanation
from hri_emo.serve.schemas import ExplanationBody

DOCUMENTED = ExplanationBody.model_fields


def test_every_non_map_field_is_documented_with_the_dataclass_type():
    hints = typing.get_type_hints(UtteranceExplanation)
    names = {f.name for f in fields(UtteranceExplanation)} - set(ARRAY_FIELDS)
    assert set(DOCUMENTED) == names | {"top_words"}  # top_words: a view to_dict() adds
    for name in names:
        assert DOCUMENTED[name].annotation == hints[name], name


def test_transcript_source_names_every_source():
    description = DOCUMENTED["transcript_source"].description
    assert all(f'"{source}"' in description for source in TRANSCRIPT_SOURCES)


def test_a_full_result_validates_and_keeps_its_maps():
    exp = UtteranceExplanation(
        ["happy", "sad"],
        "singlelabel",
        {"happy": 0.7, "sad": 0.3},
        ["happy"],
        words=["so", "glad"],
        attribution=np.array([[0.2, 0.8], [0.5, 0.5]]),
        transcript="so glad",
        transcript_source="corpus",
    )
    body = ExplanationBody.model_validate(exp.to_dict())
    assert body.transcript_source == "corpus"
    assert body.model_extra["attribution"] == [[0.2, 0.8], [0.5, 0.5]]
