"""License windows are wall-clock times in the license's zone (US Eastern), end exclusive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.errors import ParseError
from clearance.policy.licenses import bundled_licenses, parse_license, read_license_file
from tests.policy.helpers import license_

ET = ZoneInfo("America/New_York")


def gl38():  # type: ignore[no-untyped-def]
    return next(lic for lic in bundled_licenses() if lic.id == "OFAC-VENEZUELA-GL38")


def test_gl38_covers_the_last_minute_before_12_01_am_eastern() -> None:
    lic = gl38()
    assert lic.valid_at(datetime(2021, 1, 13, 23, 59, tzinfo=ET))
    assert lic.valid_at(datetime(2021, 1, 14, 0, 0, 59, tzinfo=ET))
    assert not lic.valid_at(datetime(2021, 1, 14, 0, 1, tzinfo=ET))


def test_gl38_window_is_eastern_standard_time_not_utc() -> None:
    lic = gl38()
    # 00:01 EST on 14 January 2021 is 05:01 UTC
    assert lic.valid_at(datetime(2021, 1, 14, 5, 0, tzinfo=UTC))
    assert not lic.valid_at(datetime(2021, 1, 14, 5, 1, tzinfo=UTC))
    # naive datetimes are read as Eastern wall-clock time
    assert lic.valid_at(datetime(2021, 1, 14, 0, 0))
    assert not lic.valid_at(datetime(2021, 1, 14, 0, 2))


def test_gl38_starts_on_the_designation_day() -> None:
    lic = gl38()
    assert not lic.valid_at(datetime(2020, 11, 29, 23, 59, tzinfo=ET))
    assert lic.valid_at(datetime(2020, 11, 30, 9, 0, tzinfo=ET))


def test_summer_expiry_uses_daylight_time_offset() -> None:
    lic = license_(programs=["X"], valid_until="2021-07-01T00:01")
    # 00:01 EDT is 04:01 UTC in July (UTC-4), one hour earlier in UTC than in winter
    assert lic.valid_at(datetime(2021, 7, 1, 4, 0, tzinfo=UTC))
    assert not lic.valid_at(datetime(2021, 7, 1, 4, 1, tzinfo=UTC))
    assert lic.valid_at(datetime(2021, 6, 30, 23, 59, tzinfo=ET))


def test_expiry_on_the_night_dst_ends_is_measured_in_wall_clock_time() -> None:
    # clocks fall back at 02:00 EDT on 7 Nov 2021 to 01:00 EST; a window ending at 03:00 local
    # time is 08:00 UTC (EST), so 07:30 UTC (02:30 EST) is still inside
    lic = license_(programs=["X"], valid_until="2021-11-07T03:00")
    assert lic.valid_at(datetime(2021, 11, 7, 7, 30, tzinfo=UTC))
    assert not lic.valid_at(datetime(2021, 11, 7, 8, 0, tzinfo=UTC))


def test_start_on_the_night_dst_begins() -> None:
    lic = license_(programs=["X"], valid_from="2021-03-14T03:00")
    # 03:00 EDT on 14 March 2021 is 07:00 UTC; 06:59 UTC is 01:59 EST, before the start
    assert not lic.valid_at(datetime(2021, 3, 14, 6, 59, tzinfo=UTC))
    assert lic.valid_at(datetime(2021, 3, 14, 7, 0, tzinfo=UTC))
    assert lic.valid_at(datetime(2021, 3, 14, 7, 0, tzinfo=UTC) + timedelta(seconds=1))


def test_other_time_zone_is_honoured() -> None:
    lic = license_(programs=["X"], valid_until="2022-01-01T00:00", timezone="Europe/London")
    assert lic.valid_at(datetime(2021, 12, 31, 23, 59, tzinfo=UTC))
    assert not lic.valid_at(datetime(2021, 12, 31, 19, 0, tzinfo=ET))


def test_transaction_types_and_targets() -> None:
    lic = gl38()
    assert lic.authorizes_type("wind-down") and not lic.authorizes_type("any")
    assert lic.covers_target("ofac-sdn:30502", ["VENEZUELA"])
    assert lic.covers_target("ofac-sdn:30502", ["VENEZUELA"], via_ownership=True)
    assert not lic.covers_target("ofac-sdn:1", ["VENEZUELA"])
    assert not lic.covers_target("ofac-sdn:30502", ["SDGT"])
    narrow = license_(entities=["ofac-sdn:1"], include_owned=False)
    assert narrow.covers_target("ofac-sdn:1", []) and not narrow.covers_target(
        "ofac-sdn:1", [], via_ownership=True
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "blanket"}, "kind"),
        ({"transaction_types": []}, "transaction_types"),
        ({"valid_until": "14 Jan 2021"}, "valid_until"),
        ({"valid_until": "2021-01-14T00:01-05:00"}, "valid_until"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"valid_from": "2021-02-01T00:00", "valid_until": "2021-01-01T00:00"}, "valid_until"),
    ],
)
def test_bad_license_names_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(ParseError) as err:
        license_(programs=["X"], **fields)
    assert err.value.field == field


def test_license_without_programs_or_entities_is_refused() -> None:
    with pytest.raises(ParseError, match="programs or the entities"):
        license_()


def test_license_file_reads_a_list(tmp_path: Path) -> None:
    path = tmp_path / "l.yaml"
    path.write_text(
        "- {id: A, kind: general, title: a, programs: [X], transaction_types: ['*']}\n"
        "- {id: B, kind: specific, title: b, entities: ['ofac-sdn:1'], transaction_types: [payment]}\n"
    )
    assert [lic.id for lic in read_license_file(path)] == ["A", "B"]
    path.write_text("- {id: A, kind: general}\n")
    with pytest.raises(ParseError) as err:
        read_license_file(path)
    assert err.value.field == "title" and "l.yaml" in str(err.value)


_LICENSE_KEYS = ["id", "kind", "title", "programs", "entities", "include_owned", "transaction_types"]
_LICENSE_KEYS += ["parties", "valid_from", "valid_until", "timezone", "conditions", "number", "source"]
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=12)
    | st.sampled_from(["0001-01-01T00:00", "9999-12-31T23:59", "2021-01-14T00:01", "UTC", "*"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(_LICENSE_KEYS), _VALUES, max_size=6))
def test_parse_license_refuses_bad_fields_with_a_parse_error_and_never_crashes(
    fields: dict[str, Any],
) -> None:
    raw = {
        "id": "X",
        "kind": "general",
        "title": "t",
        "programs": ["P"],
        "transaction_types": ["*"],
        **fields,
    }
    try:
        lic = parse_license(raw)
    except ParseError as exc:
        assert exc.field is None or exc.field.split("[")[0] in raw
        return
    lic.valid_at(datetime(2021, 1, 1, tzinfo=UTC))  # any accepted window converts between zones
    assert parse_license(lic.to_dict()).to_dict() == lic.to_dict()
