"""A firm's own list as CSV."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.errors import ParseError
from clearance.lists.custom_csv import read
from clearance.model import invalid_properties

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "custom" / "mybank.csv"
HEADER = "id,name,schema,aliases,birth_date,country,id_numbers,program,notes"


def write(tmp_path: Path, data: str | bytes) -> Path:
    path = tmp_path / "list.csv"
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def parse_error(tmp_path: Path, data: str | bytes) -> ParseError:
    with pytest.raises(ParseError) as err:
        read([write(tmp_path, data)], "custom-mybank")
    return err.value


def test_fixture_rows_become_entities_with_normalised_values() -> None:
    parsed = read([FIXTURE], "custom-mybank")
    jane, holdings, vessel = parsed.entities
    assert jane.id == "custom-mybank:1" and jane.schema == "Person"
    assert jane.get("alias") == ["Jane Q. Example", "J. Example"]
    assert jane.get("birthDate") == ["1970-05-01"]
    assert jane.get("country") == ["gb"]
    assert jane.get("idNumber") == ["AB123456"]
    assert jane.get("program") == ["INTERNAL-RISK"]
    assert jane.get("notes") == ["Exited customer"]
    assert jane.raw is not None and jane.raw["line"] == 2
    assert holdings.schema == "Company" and holdings.get("country") == ["gb", "de"]
    assert vessel.schema == "Vessel" and vessel.get("registrationNumber") == ["IMO 9999999"]
    assert all(invalid_properties(e) == [] for e in parsed.entities)


def test_byte_order_mark_and_column_order_do_not_matter(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffSchema,Name,ID\nperson,Ann Example,a1\n")
    (entity,) = read([path], "custom-x").entities
    assert (entity.id, entity.schema, entity.caption) == ("custom-x:a1", "Person", "Ann Example")


def test_missing_required_column_names_it(tmp_path: Path) -> None:
    err = parse_error(tmp_path, "id,name\n1,Ann\n")
    assert (err.line, err.field) == (1, "schema")


def test_empty_id_and_empty_name_name_line_and_field(tmp_path: Path) -> None:
    err = parse_error(tmp_path, f"{HEADER}\n1,Ann,Person,,,,,,\n,Bob,Person,,,,,,\n")
    assert (err.line, err.field) == (3, "id")
    err = parse_error(tmp_path, f"{HEADER}\n1, ,Person,,,,,,\n")
    assert (err.line, err.field) == (2, "name")


def test_unknown_schema_is_refused(tmp_path: Path) -> None:
    err = parse_error(tmp_path, f"{HEADER}\n1,Ann,Human,,,,,,\n")
    assert (err.line, err.field) == (2, "schema")


def test_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    err = parse_error(tmp_path, f"{HEADER}\n1,Ann,Person,,,,,,\n1,Bob,Person,,,,,,\n")
    assert (err.line, err.field) == (3, "id") and "line 2" in str(err)


@pytest.mark.parametrize("value", ["1970-13-01", "1970-02-30", "01/05/1970", "soon"])
def test_bad_birth_date_is_refused(tmp_path: Path, value: str) -> None:
    err = parse_error(tmp_path, f"{HEADER}\n1,Ann,Person,,{value},,,,\n")
    assert (err.line, err.field) == (2, "birth_date")


def test_birth_date_on_a_company_is_refused(tmp_path: Path) -> None:
    assert parse_error(tmp_path, f"{HEADER}\n1,Acme,Company,,1990,,,,\n").field == "birth_date"


def test_unknown_country_is_a_warning_not_an_error(tmp_path: Path) -> None:
    parsed = read([write(tmp_path, f"{HEADER}\n1,Ann,Person,,,Atlantis;FR,,,\n")], "custom-x")
    assert parsed.entities[0].get("country") == ["fr"]
    assert any("Atlantis" in w for w in parsed.warnings)


def test_wrong_column_count_names_the_line(tmp_path: Path) -> None:
    assert parse_error(tmp_path, "id,name,schema\n1,Ann,Person\n2,Bob\n").line == 3


def test_bad_encoding_names_the_line(tmp_path: Path) -> None:
    err = parse_error(tmp_path, b"id,name,schema\n1,Ann,Person\n2,M\xfcller,Person\n")
    assert err.line == 3


def test_empty_file_is_refused(tmp_path: Path) -> None:
    assert "empty" in str(parse_error(tmp_path, b"\xef\xbb\xbf\n"))


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: (HEADER + "\n" + t).encode()))
def test_arbitrary_bytes_give_a_result_or_a_parse_error(tmp_path: Path, data: bytes) -> None:
    try:
        read([write(tmp_path, data)], "custom-x")
    except ParseError:
        pass
