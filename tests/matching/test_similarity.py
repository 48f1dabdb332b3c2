"""Token similarities (clearance.matching.scorer.similar_tokens): the rules of the scorer's docstring."""

from __future__ import annotations

from functools import cache

from hypothesis import given
from hypothesis import strategies as st

from clearance.matching.candidates import analyse_query_name
from clearance.matching.index import MatchIndex
from clearance.matching.scorer import INITIAL_SIM, MIN_SIM, SKELETON_SIM, Hits, similar_tokens
from clearance.matching.screener import Screener
from tests.factories import make_entity

LISTED = [
    ("Person", "HOSSEIN, Darwish Abdolrahman"),
    ("Person", "KOWALCZYK, Bartholomew"),
    ("Person", "SMITH, John"),
    ("Vessel", "HOSHIKAZE MARU NO. 8"),
    ("Organization", "ZHONGXING TRADING"),
]


@cache
def index() -> MatchIndex:
    entities = [make_entity(f"t:{i}", schema, name=name) for i, (schema, name) in enumerate(LISTED)]
    return Screener.from_entities(entities).index


def similarities(query: str, schema: str = "Person") -> dict[str, list[tuple[str, float]]]:
    """Each listed token similar to some query token: (query token, similarity) pairs."""
    idx = index()
    qname = analyse_query_name(idx, query, schema)
    hits: Hits = similar_tokens(idx, qname, list(range(len(idx.token_canon))))
    return {idx.token_canon[t]: [(qname.canon[i], s) for i, s in row] for t, row in hits.items()}


def sim(query: str, listed_token: str, schema: str = "Person") -> float:
    return max((s for _, s in similarities(query, schema).get(listed_token, [])), default=0.0)


def test_an_equal_token_is_fully_similar() -> None:
    assert sim("Bartholomew", "bartholomew") == 1.0


def test_one_edit_costs_its_share_of_the_length_and_a_third_in_a_short_token_is_too_many() -> None:
    assert sim("Bartolomew", "bartholomew") == 1.0 - 1 / 11
    assert sim("Kowalczik", "kowalczyk") == 1.0 - 1 / 9
    assert sim("Kovalchik", "kowalczyk") < MIN_SIM  # three edits in nine letters


def test_the_same_phonetic_skeleton_lifts_a_spelling_two_edits_away() -> None:
    # two edits in seven letters is too many for the edit rule; the shared skeleton makes them similar
    assert sim("Darvich", "darwish") == SKELETON_SIM
    assert sim("Dervich", "darwish") < MIN_SIM  # three edits, though the skeleton is near


def test_numbers_only_ever_match_exactly() -> None:
    assert sim("Hoshikaze Maru No 8", "8", "Vessel") == 1.0
    assert sim("Hoshikaze Maru No 6", "8", "Vessel") == 0.0


def test_an_initial_meets_a_word_starting_with_it() -> None:
    assert sim("J Smith", "john") == INITIAL_SIM
    assert sim("K Smith", "john") == 0.0


def test_tokens_like_no_query_token_are_left_out() -> None:
    assert "zhongxing" not in similarities("Bartholomew Kowalczyk")


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=30))
def test_every_pair_kept_is_at_least_min_sim_in_query_order(query: str) -> None:
    idx = index()
    qname = analyse_query_name(idx, query, "Thing")
    hits = similar_tokens(idx, qname, list(range(len(idx.token_canon))))
    for row in hits.values():
        positions = [i for i, _ in row]
        assert positions == sorted(positions) and len(set(positions)) == len(positions)
        assert all(MIN_SIM <= s <= 1.0 for _, s in row)
