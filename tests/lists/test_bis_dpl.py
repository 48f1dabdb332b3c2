"""The BIS Denied Persons List reader."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.errors import ParseError
from clearance.lists.bis_dpl import COLUMNS, is_organisation, read, row_key
from clearance.model import invalid_properties
from tests.conftest import shared_path

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "bis" / "dpl.txt"
HEADER = "\t".join(f'"{c}"' for c in COLUMNS)


def real_file() -> Path:
    return shared_path("data", "lists", "bis-dpl", "2022-09-07", "dpl.txt")


def row(name: str = "A PERSON", **cells: str) -> str:
    values = {c: "" for c in COLUMNS} | {"Name": name} | cells
    return "\t".join(f'"{values[c]}"' for c in COLUMNS)


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "dpl.txt"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_rows_of_one_name_merge_into_one_entity_with_every_address() -> None:
    parsed = read([FIXTURE], "bis-dpl")
    assert len(parsed.entities) == 2
    company = next(e for e in parsed.entities if e.caption == "SAMPLE EXPORTS LTD.")
    assert company.id == f"bis-dpl:{row_key('Sample Exports Ltd')}"
    assert company.schema == "Organization"
    assert company.get("alias") == ["Sample Exports Ltd"]
    assert company.get("address") == ["1 HARBOUR ROAD, DUBAI, AE", "P.O. BOX 911399, AMMAN, 11191, JO"]
    assert company.get("country") == ["ae", "jo"]
    assert company.get("createdAt") == ["2021-05-13"]
    assert company.get("modifiedAt") == ["2022-05-18"]
    assert company.get("program") == ["BIS-DPL"]
    assert "sanction" in company.get("topics")
    assert len(company.get("notes")) == 2 and "87 F.R. 30173" in company.get("notes")[0]
    assert company.raw is not None and [r["line"] for r in company.raw["rows"]] == [2, 4]
    assert parsed.published is None


def test_a_name_without_business_words_stays_a_legal_entity() -> None:
    person = next(e for e in read([FIXTURE], "bis-dpl").entities if e.caption == "JOHN Q. EXAMPLE")
    assert person.schema == "LegalEntity"
    assert person.get("address") == ["12 MAIN STREET, EL PASO, TX, 79905, US"]
    assert all(invalid_properties(e) == [] for e in read([FIXTURE], "bis-dpl").entities)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("AIR FREIGHT LTD", True),
        ("KOTO COMMERCIO IBERICA, S.L.", True),
        ("MAHAN AIRWAYS", True),
        ("AARON ABRAHAM VILLA", False),
        ("JOSE DA SILVA", False),
        ("SA", False),
        ("AB SAMPLE", False),
    ],
)
def test_organisation_heuristic(name: str, expected: bool) -> None:
    assert is_organisation(name) is expected


def test_row_key_ignores_case_punctuation_and_spacing() -> None:
    assert row_key("Sample  Exports, Ltd.") == row_key("SAMPLE EXPORTS LTD")
    assert row_key("GHARE SABZ CO.") != row_key("GHAREH SABZ CO.")


def test_real_file_known_row() -> None:
    path = real_file()
    with path.open(newline="", encoding="utf-8") as fh:
        names = {r["Name"].strip() for r in csv.DictReader(fh, delimiter="\t")}
    parsed = read([path], "bis-dpl")
    entities = {e.id: e for e in parsed.entities}
    assert len(entities) == len({row_key(n) for n in names})
    villa = entities[f"bis-dpl:{row_key('AARON ABRAHAM VILLA')}"]
    assert villa.get("name") == ["AARON ABRAHAM VILLA"]
    assert villa.get("address") == ["3415 RIVERA AVENUE, EL PASO, TX, 79905"]
    assert villa.get("createdAt") == ["2022-08-24"]
    assert any("87 F.R. 52741" in n for n in villa.get("notes"))
    freight = entities[f"bis-dpl:{row_key('AIR FREIGHT LTD')}"]
    assert freight.schema == "Organization" and len(freight.get("address")) == 4
    assert all(invalid_properties(e) == [] for e in parsed.entities)
    # The 2022-09-07 file has "0222-05-18" and "3017-08-22" for Last_Update: warnings, not failures.
    assert any("0222-05-18" in w for w in parsed.warnings)


def test_missing_column_names_the_column(tmp_path: Path) -> None:
    header = "\t".join(f'"{c}"' for c in COLUMNS if c != "City")
    with pytest.raises(ParseError) as err:
        read([write(tmp_path, header + "\n")], "bis-dpl")
    assert (err.value.line, err.value.field) == (1, "City")


def test_wrong_column_count_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, f'{HEADER}\n{row()}\n{row()}\t"extra"\n')
    with pytest.raises(ParseError, match="13 fields") as err:
        read([path], "bis-dpl")
    assert err.value.line == 3


def test_line_numbers_count_quoted_newlines(tmp_path: Path) -> None:
    path = write(
        tmp_path, f"{HEADER}\n{row(Street_Address='LINE ONE' + chr(10) + 'LINE TWO')}\n{row('', City='X')}\n"
    )
    with pytest.raises(ParseError) as err:
        read([path], "bis-dpl")
    assert (err.value.line, err.value.field) == (4, "Name")


def test_bad_encoding_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.encode() + b"\n" + row().encode() + b'\n"M\xfcLLER"\n')
    with pytest.raises(ParseError, match="UTF-8") as err:
        read([path], "bis-dpl")
    assert err.value.line == 3


def test_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="empty"):
        read([write(tmp_path, "")], "bis-dpl")


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: (HEADER + "\n" + t).encode()))
def test_arbitrary_bytes_give_a_result_or_a_parse_error(tmp_path: Path, data: bytes) -> None:
    try:
        read([write(tmp_path, data)], "bis-dpl")
    except ParseError:
        pass
