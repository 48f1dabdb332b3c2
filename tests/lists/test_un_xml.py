"""The UN Security Council consolidated list reader."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from clearance.errors import ParseError
from clearance.lists.un_xml import read
from clearance.model import Entity, invalid_properties
from tests.conftest import shared_path

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "un" / "consolidated.xml"


def real_file() -> Path:
    return shared_path("data", "lists", "un-sc", "2026-02-27", "UN_consolidated.xml")


def by_id(path: Path) -> dict[str, Entity]:
    return {e.id: e for e in read([path], "un-sc").entities}


def write(tmp_path: Path, text: str | bytes, name: str = "un.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_fixture_person_has_names_aliases_dates_documents_and_countries() -> None:
    parsed = read([FIXTURE], "un-sc")
    person = next(e for e in parsed.entities if e.id == "un-sc:QDi.900")
    assert person.schema == "Person"
    assert person.get("name") == ["SAMPLE ABDUL EXAMPLE"]
    assert person.get("firstName") == ["SAMPLE"] and person.get("lastName") == ["EXAMPLE"]
    assert person.get("alias") == ["سامبل عبد المثال", "Sampel Al-Mithal", "Abu Sample"]
    assert person.get("weakAlias") == ["The Example"]
    assert person.get("previousName") == ["Old Sample"]
    assert person.get("birthDate") == ["1951-06-19", "1953", "1955", "1956", "1957"]
    assert person.get("birthPlace") == ["Giza, Egypt"]
    assert person.get("passportNumber") == ["1084010"]
    assert person.get("idNumber") == ["29-11-1951", "01010"]
    assert person.get("nationality") == ["eg", "tr"]
    assert person.get("country") == ["eg", "pk"]
    assert person.get("address") == ["1 Example Street, Cairo, Egypt"]
    assert person.get("createdAt") == ["2001-01-25"]
    assert person.get("modifiedAt") == ["2020-11-24"]
    assert person.get("program") == ["Al-Qaida"]
    assert person.get("topics") == ["sanction"]
    assert person.get("gender") == ["male"]
    assert person.get("notes") == ["Invented for tests."]
    assert person.raw is not None and person.raw["REFERENCE_NUMBER"] == "QDi.900"
    assert invalid_properties(person) == []


def test_fixture_entity_is_an_organization_with_previous_name() -> None:
    org = by_id(FIXTURE)["un-sc:KPe.900"]
    assert org.schema == "Organization"
    assert org.get("alias") == ["EMTC"]
    assert org.get("previousName") == ["OLD EXAMPLE COMPANY"]
    assert org.get("country") == ["kp"]
    assert invalid_properties(org) == []


def test_published_comes_from_date_generated() -> None:
    assert read([FIXTURE], "un-sc").published == date(2026, 2, 27)


def test_real_file_yields_one_entity_per_individual_and_entity_element() -> None:
    path = real_file()
    root = etree.parse(str(path)).getroot()
    expected = len(root.findall("INDIVIDUALS/INDIVIDUAL")) + len(root.findall("ENTITIES/ENTITY"))
    parsed = read([path], "un-sc")
    assert len(parsed.entities) == expected
    assert len({e.id for e in parsed.entities}) == expected
    assert parsed.published == date(2026, 2, 27)
    assert all(invalid_properties(e) == [] for e in parsed.entities)


def test_real_file_known_entry_in_detail() -> None:
    zawahiri = by_id(real_file())["un-sc:QDi.006"]
    assert zawahiri.get("name") == ["AIMAN MUHAMMED RABI AL-ZAWAHIRI"]
    assert "Ayman Al-Zawahari" in zawahiri.get("alias")
    assert "Abu Fatma" in zawahiri.get("weakAlias")
    assert zawahiri.get("birthDate") == ["1951-06-19"]
    assert zawahiri.get("birthPlace") == ["Giza, Egypt"]
    assert zawahiri.get("passportNumber") == ["1084010", "19820215"]
    assert zawahiri.get("nationality") == ["eg"]
    assert zawahiri.get("program") == ["Al-Qaida"]
    assert zawahiri.get("createdAt") == ["2001-01-25"]


def test_truncated_xml_names_file_and_line(tmp_path: Path) -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    path = write(tmp_path, text[: len(text) // 2])
    with pytest.raises(ParseError) as err:
        read([path], "un-sc")
    assert err.value.path == str(path)
    assert err.value.line is not None and err.value.line > 1


def test_broken_xml_names_the_line_of_the_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL></WRONG>\n</INDIVIDUALS>\n</CONSOLIDATED_LIST>",
    )
    with pytest.raises(ParseError) as err:
        read([path], "un-sc")
    assert err.value.line == 3


def test_wrong_root_element_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "<sdnList><sdnEntry/></sdnList>")
    with pytest.raises(ParseError, match="CONSOLIDATED_LIST"):
        read([path], "un-sc")


def test_missing_reference_number_names_the_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL><FIRST_NAME>A</FIRST_NAME></INDIVIDUAL>\n"
        "</INDIVIDUALS></CONSOLIDATED_LIST>",
    )
    with pytest.raises(ParseError) as err:
        read([path], "un-sc")
    assert (err.value.line, err.value.field) == (3, "REFERENCE_NUMBER")


def test_duplicate_reference_number_is_refused(tmp_path: Path) -> None:
    entry = "<INDIVIDUAL><FIRST_NAME>A</FIRST_NAME><REFERENCE_NUMBER>X.1</REFERENCE_NUMBER></INDIVIDUAL>\n"
    path = write(
        tmp_path, f"<CONSOLIDATED_LIST><INDIVIDUALS>\n{entry}{entry}</INDIVIDUALS></CONSOLIDATED_LIST>"
    )
    with pytest.raises(ParseError, match="twice"):
        read([path], "un-sc")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="empty"):
        read([write(tmp_path, "  \n")], "un-sc")


def test_bad_encoding_is_a_parse_error(tmp_path: Path) -> None:
    path = write(
        tmp_path, b'<?xml version="1.0" encoding="UTF-8"?>\n<CONSOLIDATED_LIST>\xff\xfe</CONSOLIDATED_LIST>'
    )
    with pytest.raises(ParseError) as err:
        read([path], "un-sc")
    assert err.value.line == 2


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400) | st.text(max_size=300).map(lambda t: f"<CONSOLIDATED_LIST>{t}".encode()))
def test_arbitrary_bytes_give_a_result_or_a_parse_error(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, data, "fuzz.xml")
    try:
        read([path], "un-sc")
    except ParseError:
        pass
