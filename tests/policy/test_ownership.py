"""OFAC's 50% rule over ownership links (2014 guidance, FAQs 398-401)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import orjson
import pytest

from clearance.errors import ParseError
from clearance.policy.ownership import OwnershipGraph, OwnershipLink, read_csv, read_ftm, read_links

DAY = date(2021, 1, 20)


def graph(*links: tuple[str, str, float]) -> OwnershipGraph:
    return OwnershipGraph(OwnershipLink(o, a, p) for o, a, p in links)


def listed(*ids: str):  # type: ignore[no-untyped-def]
    blocked = set(ids)
    return lambda node: node in blocked


def test_direct_50_percent_blocks() -> None:
    result = graph(("X", "A", 50)).evaluate("A", DAY, listed("X"))
    assert result.blocked and result.share == 50
    assert [[(s.owner, s.asset) for s in p] for p in result.paths] == [[("X", "A")]]


def test_49_percent_is_review_not_block() -> None:
    result = graph(("X", "A", 49)).evaluate("A", DAY, listed("X"))
    assert not result.blocked and result.review and result.share == 49


def test_under_25_percent_is_neither() -> None:
    result = graph(("X", "A", 24.9)).evaluate("A", DAY, listed("X"))
    assert not result.blocked and not result.review


def test_two_blocked_owners_aggregate_25_plus_25() -> None:
    result = graph(("X", "A", 25), ("Y", "A", 25), ("Z", "A", 50)).evaluate("A", DAY, listed("X", "Y"))
    assert result.blocked and result.share == 50
    assert sorted(result.roots) == ["X", "Y"]


def test_two_blocked_owned_companies_each_holding_25_percent() -> None:
    # X (blocked) owns 100% of B1 and 50% of B2; each holds 25% of C: C is 50% blocked-owned
    g = graph(("X", "B1", 100), ("X", "B2", 50), ("B1", "C", 25), ("B2", "C", 25))
    result = g.evaluate("C", DAY, listed("X"))
    assert result.blocked and result.share == 50
    assert [[s.owner for s in p] for p in result.paths] == [["X", "B1"], ["X", "B2"]]


def test_indirect_through_a_wholly_owned_intermediate_faq_401() -> None:
    # X owns 100% of A; A owns 50% of B: B is blocked
    result = graph(("X", "A", 100), ("A", "B", 50)).evaluate("B", DAY, listed("X"))
    assert result.blocked
    assert [(s.owner, s.asset, s.percentage) for s in result.paths[0]] == [("X", "A", 100), ("A", "B", 50)]


def test_direct_and_indirect_holdings_add_up() -> None:
    # X owns 100% of A; X owns 25% of B directly, A owns 25% of B: B is blocked (FAQ 401)
    result = graph(("X", "A", 100), ("X", "B", 25), ("A", "B", 25)).evaluate("B", DAY, listed("X"))
    assert result.blocked and result.share == 50


def test_percentages_are_not_multiplied_through_an_unblocked_intermediate() -> None:
    # X owns 40% of A (A not blocked); A owns 100% of B: B is not blocked, and A is only for review
    g = graph(("X", "A", 40), ("A", "B", 100))
    assert not g.evaluate("B", DAY, listed("X")).blocked
    assert g.evaluate("B", DAY, listed("X")).share == 0
    assert g.evaluate("A", DAY, listed("X")).review


def test_cycles_terminate_and_keep_the_least_fixed_point() -> None:
    # A and B own each other 60%; nobody blocked owns them: neither is blocked
    g = graph(("A", "B", 60), ("B", "A", 60), ("X", "A", 30))
    assert not g.evaluate("B", DAY, listed("X")).blocked
    # a blocked owner with 50% of A blocks A, and through A, B
    g2 = graph(("A", "B", 60), ("B", "A", 40), ("X", "A", 50))
    result = g2.evaluate("B", DAY, listed("X"))
    assert result.blocked
    assert [s.owner for s in result.paths[0]] == ["X", "A"]


def test_a_thirty_level_chain_is_followed_to_the_listed_root() -> None:
    links = [("X", "L1", 100.0)] + [(f"L{i}", f"L{i + 1}", 51.0) for i in range(1, 30)]
    g = graph(*links)
    result = g.evaluate("L30", DAY, listed("X"))
    assert result.blocked and result.roots == ["X"]
    assert len(result.paths[0]) == 30
    assert result.paths[0][0].owner == "X" and result.paths[0][-1].asset == "L30"
    # one 49% link in the middle breaks the chain
    broken = [*links[:15], ("L15", "L16", 49.0), *links[16:]]
    assert not graph(*broken).evaluate("L30", DAY, listed("X")).blocked


def test_a_chain_deeper_than_the_recursion_limit_is_followed_to_its_root() -> None:
    links = [OwnershipLink("X", "N0", 100)] + [OwnershipLink(f"N{i}", f"N{i + 1}", 100) for i in range(5000)]
    g = OwnershipGraph(links)
    result = g.evaluate("N5000", DAY, lambda n: n == "X")
    assert result.blocked and len(result.paths[0]) == 5001


def test_links_outside_their_dates_do_not_count() -> None:
    g = OwnershipGraph(
        [
            OwnershipLink("X", "A", 60, start=date(2021, 2, 1)),
            OwnershipLink("Y", "A", 60, end=date(2020, 12, 31)),
        ]
    )
    assert not g.evaluate("A", DAY, listed("X", "Y")).blocked
    assert g.evaluate("A", date(2021, 2, 2), listed("X")).blocked


def test_csv_links_are_read_with_dates_and_sources() -> None:
    text = (
        "owner,asset,percentage,start_date,end_date,source,owner_name,asset_name\n"
        "ofac-sdn:30502,cust-7,60%,2015-01-01,,registry,CEIEC,Sub\n"
    )
    (link,) = read_csv(text, "links.csv")
    assert (link.owner, link.asset, link.percentage, link.start, link.source) == (
        "ofac-sdn:30502",
        "cust-7",
        60.0,
        date(2015, 1, 1),
        "registry",
    )


@pytest.mark.parametrize(
    ("row", "field"),
    [("a,b,lots", "percentage"), ("a,b,150", "percentage"), (",b,10", "owner"), ("a,a,10", "asset")],
)
def test_bad_csv_rows_name_line_and_field(row: str, field: str) -> None:
    with pytest.raises(ParseError) as err:
        read_csv("owner,asset,percentage\n" + row + "\n", "links.csv")
    assert err.value.line == 2 and err.value.field == field


def test_ftm_ownership_entities_are_read_and_others_skipped(tmp_path: Path) -> None:
    rows = [
        {
            "id": "own-1",
            "schema": "Ownership",
            "properties": {
                "owner": ["ofac-sdn:30502"],
                "asset": ["cust-7"],
                "percentage": ["60"],
                "startDate": ["2016-05"],
                "sourceUrl": ["https://example.org/reg"],
            },
        },
        {"id": "c", "schema": "Company", "properties": {"name": ["Sub"]}},
    ]
    path = tmp_path / "links.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows))
    (link,) = read_links(path)
    assert link.start == date(2016, 5, 1)
    assert (link.owner, link.asset, link.percentage, link.source) == (
        "ofac-sdn:30502",
        "cust-7",
        60.0,
        "https://example.org/reg",
    )
    assert read_ftm("") == []


def test_partial_end_dates_run_to_the_end_of_the_period() -> None:
    (link,) = read_csv("owner,asset,percentage,end_date\na,b,10,2020-02\n")
    assert link.end == date(2020, 2, 29)
    with pytest.raises(ParseError) as err:
        read_csv("owner,asset,percentage,end_date\na,b,10,Feb 2020\n")
    assert err.value.field == "end_date"
