"""The OFAC XML reader: the classic sdn.xml layout and SDN_ADVANCED.xml."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.errors import ParseError
from clearance.lists.ofac_xml import imo_number, person_name, read
from clearance.model import Entity, invalid_properties

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ofac_xml"
CLASSIC = FIXTURES / "sdn.xml"
ADVANCED = FIXTURES / "sdn_advanced.xml"
CEIEC_ALIASES = [
    "CHINA NATIONAL ELECTRONICS IMPORT AND EXPORT CORPORATION",
    "CHINA NATIONAL ELECTRONIC IMPORT-EXPORT COMPANY",
]


def entities(path: Path) -> dict[str, Entity]:
    return {e.id: e for e in read([path], "ofac-sdn").entities}


def write(tmp_path: Path, data: str | bytes) -> Path:
    path = tmp_path / "sdn.xml"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


@pytest.mark.parametrize("path", [CLASSIC, ADVANCED], ids=["classic", "advanced"])
def test_ceiec_is_read_with_its_aliases_addresses_and_program(path: Path) -> None:
    ceiec = entities(path)["ofac-sdn:30502"]
    assert ceiec.schema == "Organization"
    assert ceiec.get("name") == ["CEIEC"]
    assert ceiec.get("alias") == CEIEC_ALIASES
    assert ceiec.get("program") == ["VENEZUELA"]
    assert ceiec.get("topics") == ["sanction"]
    assert ceiec.get("country") == ["cn", "ve"]
    assert ceiec.get("website") == ["https://www.ceiec.com"]
    assert ceiec.get("registrationNumber") == ["16382287"]
    assert len(ceiec.get("address")) == 2 and ceiec.get("address")[0].startswith("Block A 6-23F")
    assert invalid_properties(ceiec) == []


@pytest.mark.parametrize("path", [CLASSIC, ADVANCED], ids=["classic", "advanced"])
def test_person_names_dates_documents_and_countries(path: Path) -> None:
    person = entities(path)["ofac-sdn:90001"]
    assert person.schema == "Person"
    assert person.get("name") == ["EXAMPLOV, Ivan Petrovich"]
    assert person.get("lastName") == ["EXAMPLOV"]
    assert person.get("weakAlias") == ["VANYA"]
    assert person.get("previousName") == ["PRIMEROV, Ivan"]
    assert person.get("birthDate") == ["1965-01-12", "1966"]
    assert person.get("birthPlace") == ["Leningrad, Russia"]
    assert person.get("passportNumber") == ["7512345678"]
    assert person.get("nationality") == ["ru"]
    assert person.get("program") == ["RUSSIA-EO14024", "UKRAINE-EO13660"]
    assert invalid_properties(person) == []


def test_classic_strong_and_weak_akas_gender_tax_and_citizenship() -> None:
    person = entities(CLASSIC)["ofac-sdn:90001"]
    assert person.get("alias") == ["EKZAMPLOV, Ivan"]
    assert person.get("gender") == ["male"]
    assert person.get("taxNumber") == ["771234567890"]
    assert person.get("citizenship") == ["cy"]
    assert person.get("position") == ["Director of Example Trading"]
    assert person.raw is not None and person.raw["uid"] == "90001"


def test_classic_vessel_info() -> None:
    vessel = entities(CLASSIC)["ofac-sdn:90002"]
    assert vessel.schema == "Vessel"
    assert vessel.get("imoNumber") == ["IMO9187629"]
    assert vessel.get("mmsi") == ["572469210"]
    assert vessel.get("callSign") == ["9HA1234"]
    assert vessel.get("flag") == ["pa"]
    assert vessel.get("grossRegisteredTonnage") == ["81000"]
    assert vessel.get("notes") == ["Vessel owner: EXAMPLE SHIPPING CO"]
    assert invalid_properties(vessel) == []


@pytest.mark.parametrize("path", [CLASSIC, ADVANCED], ids=["classic", "advanced"])
def test_published_date_is_read(path: Path) -> None:
    assert read([path], "ofac-sdn").published == date(2021, 7, 7)


def test_the_same_xml_without_a_namespace_reads_the_same(tmp_path: Path) -> None:
    text = CLASSIC.read_text(encoding="utf-8")
    plain = text.replace(
        ' xmlns="https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML"', ""
    )
    assert plain != text
    path = write(tmp_path, plain)
    assert [e.to_dict() for e in read([path], "ofac-sdn").entities] == [
        e.to_dict() for e in read([CLASSIC], "ofac-sdn").entities
    ]


def test_helpers_write_names_and_imo_numbers_like_the_csv_reader() -> None:
    assert person_name("Ayman", "AL ZAWAHIRI") == "AL ZAWAHIRI, Ayman"
    assert person_name(None, "CEIEC") == "CEIEC"
    assert imo_number("IMO 9187629") == "IMO9187629"


def test_wrong_root_element_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="sdnList"):
        read([write(tmp_path, "<CONSOLIDATED_LIST/>")], "ofac-sdn")


def test_truncated_file_names_a_line(tmp_path: Path) -> None:
    text = CLASSIC.read_text(encoding="utf-8")
    path = write(tmp_path, text[: len(text) * 2 // 3])
    with pytest.raises(ParseError) as err:
        read([path], "ofac-sdn")
    assert err.value.path == str(path) and err.value.line is not None


def test_unknown_sdn_type_names_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "<sdnList>\n<sdnEntry><uid>1</uid><lastName>X</lastName>\n<sdnType>Robot</sdnType></sdnEntry></sdnList>",
    )
    with pytest.raises(ParseError) as err:
        read([path], "ofac-sdn")
    assert (err.value.line, err.value.field) == (2, "sdnType")


def test_bad_publish_date_names_the_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "<sdnList><publshInformation><Publish_Date>soon</Publish_Date></publshInformation></sdnList>",
    )
    with pytest.raises(ParseError) as err:
        read([path], "ofac-sdn")
    assert err.value.field == "Publish_Date"


def test_duplicate_uid_is_refused(tmp_path: Path) -> None:
    entry = "<sdnEntry><uid>7</uid><lastName>X</lastName><sdnType>Entity</sdnType></sdnEntry>"
    with pytest.raises(ParseError, match="twice"):
        read([write(tmp_path, f"<sdnList>{entry}\n{entry}</sdnList>")], "ofac-sdn")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="empty"):
        read([write(tmp_path, b"")], "ofac-sdn")


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(max_size=300)
    | st.text(max_size=300).map(lambda t: f"<sdnList>{t}".encode())
    | st.text(max_size=300).map(lambda t: f"<Sanctions>{t}".encode())
)
def test_arbitrary_bytes_give_a_result_or_a_parse_error(tmp_path: Path, data: bytes) -> None:
    try:
        read([write(tmp_path, data)], "ofac-sdn")
    except ParseError:
        pass
