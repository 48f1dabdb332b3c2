"""Helpers the list readers share."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearance.lists.common import SCHEMA_TABLE, build_schema_table, country_code, date_values, iso_date


def test_schema_table_matches_the_pinned_followthemoney() -> None:
    # Regenerate with `python -m clearance.lists.common` after upgrading followthemoney.
    assert orjson.loads(SCHEMA_TABLE.read_bytes()) == build_schema_table()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1951-06-19", "1951-06-19"),
        ("2001-01-25-05:00", "2001-01-25"),
        ("12 Jan 1958", "1958-01-12"),
        ("Jan 1958", "1958-01"),
        ("circa 1958", "1958"),
        ("06/19/2003", "2003-06-19"),
        ("1970-02-30", None),
        ("0222-05-18", None),
        ("soon", None),
    ],
)
def test_iso_date(text: str, expected: str | None) -> None:
    assert iso_date(text) == expected


def test_short_year_ranges_expand_and_long_ones_keep_their_bounds() -> None:
    assert date_values("1958 to 1960") == ["1958", "1959", "1960"]
    assert date_values("1900 to 1960") == ["1900", "1960"]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("US", "us"),
        ("Germany", "de"),
        ("Iran (Islamic Republic of)", "ir"),
        ("Türkiye", "tr"),
        ("PRC", "cn"),
        ("NM", None),
    ],
)
def test_country_code(value: str, code: str | None) -> None:
    assert country_code(value) == code


@given(st.text(max_size=40))
def test_iso_date_returns_a_valid_prefix_or_none(text: str) -> None:
    value = iso_date(text)
    assert value is None or iso_date(value) == value
