"""The screening contract's JSON form: numbers rounded as ``round`` rounds them, however they are rounded."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from clearance.matching.types import Explanation, FeatureScore, Match


def _match(score: float, value: float, similarity: float) -> Match:
    explanation = Explanation("q", "listed", [("a", "b", similarity)], [FeatureScore("f", value, 0.5, "d.")])
    return Match("list:1", score, score >= 0.8, "Listed", "Person", "list@1", explanation)


def _near_ties(digits: int) -> st.SearchStrategy[float]:
    """Values at, and a few floats either side of, a tie of rounding to ``digits`` decimals."""
    return st.builds(
        lambda k, steps: _step(k / 10**digits + 0.5 / 10**digits, steps),
        st.integers(-30_000, 30_000),
        st.integers(-3, 3),
    )


def _step(value: float, steps: int) -> float:
    for _ in range(abs(steps)):
        value = math.nextafter(value, math.inf if steps > 0 else -math.inf)
    return value


numbers = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, 0.5, 0.99995, 0.00005, 0.12345, 2.675, -0.00004, 1e300, math.inf]),
    st.floats(-2, 2),
    st.floats(allow_nan=False),
    _near_ties(3),
    _near_ties(4),
)


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


def test_every_tie_of_three_and_four_decimals_and_its_neighbours_round_as_round_does() -> None:
    for digits in (3, 4):
        for k in range(-12_000, 12_001):
            tie = k / 10**digits + 0.5 / 10**digits
            for steps in range(-2, 3):
                raw = _step(tie, steps)
                shown = _match(raw, raw, raw).to_dict()
                expected = round(raw, 4)
                assert shown["score"] == expected, (raw, shown["score"], expected)
                assert math.copysign(1, shown["score"]) == math.copysign(1, expected)
                assert shown["explanation"]["aligned"][0]["similarity"] == round(raw, 3), raw
