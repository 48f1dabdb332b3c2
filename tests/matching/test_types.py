"""The screening contract's JSON form: numbers rounded as ``round`` rounds them, however they are rounded."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from clearance.matching.types import Explanation, FeatureScore, Match


def _match(score: float, value: float, similarity: float) -> Match:
    explanation = Explanation("q", "listed", [("a", "b", similarity)], [FeatureScore("f", value, 0.5, "d.")])
    return Match("list:1", score, score >= 0.8, "Listed", "Person", "list@1", explanation)


numbers = st.one_of(st.sampled_from([0.0, -0.0, 1.0, 0.5, 0.99995, 0.00005, 0.12345]), st.floats(-2, 2))


@given(numbers, numbers, numbers)
def test_scores_feature_values_and_similarities_round_as_round_does(
    score: float, value: float, similarity: float
) -> None:
    shown = _match(score, value, similarity).to_dict()
    [feature] = shown["explanation"]["features"]
    [aligned] = shown["explanation"]["aligned"]
    for got, raw, digits in (
        (shown["score"], score, 4),
        (feature["value"], value, 4),
        (aligned["similarity"], similarity, 3),
    ):
        expected = round(raw, digits)
        assert got == expected and math.copysign(1, got) == math.copysign(1, expected)
        assert type(got) is float
