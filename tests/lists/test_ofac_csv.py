"""The OFAC legacy CSV reader: small fixtures, malformed input, the real files when ../shared is there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.errors import ParseError
from clearance.lists.base import ParsedList
from clearance.lists.ofac_csv import read
from clearance.lists.registry import reader
from clearance.model import Entity, invalid_properties
from tests.conftest import shared_path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "ofac"
SAMPLE = ROOT / "src" / "clearance" / "data" / "sample" / "ofac-sdn"

SCREENABLE = {"Person", "Organization", "Vessel", "Airplane"}


def files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.csv"))


def parse(folder: Path, list_name: str = "ofac-sdn") -> ParsedList:
    return read(files(folder), list_name)


def by_id(parsed: ParsedList) -> dict[str, Entity]:
    return {e.id: e for e in parsed.entities}


def listed(parsed: ParsedList) -> list[Entity]:
    """The listed parties (one per ent_num), without the entities derived from remarks."""
    return [e for e in parsed.entities if "-" not in e.id.split(":", 1)[1]]


def shared_set(*parts: str) -> Path:
    return shared_path("data", "lists", *parts)


# --------------------------------------------------------------------------------------------------
# Fixtures in the real layout
# --------------------------------------------------------------------------------------------------


def test_the_registry_maps_ofac_csv_to_this_reader() -> None:
    assert reader("ofac-csv") is read


def test_every_row_of_the_fixture_becomes_one_entity_with_valid_properties() -> None:
    parsed = parse(FIXTURES / "sdn")
    ids = [e.id for e in listed(parsed)]
    assert len(ids) == 10 and len(set(ids)) == 10
    assert parsed.published is None
    for entity in parsed.entities:
        assert invalid_properties(entity) == [], entity.id
        assert entity.datasets == ["ofac-sdn"]


def test_ceiec_has_its_names_addresses_and_identifiers() -> None:
    ceiec = by_id(parse(FIXTURES / "sdn"))["ofac-sdn:30502"]
    assert ceiec.schema == "Organization"
    assert set(ceiec.names) == {
        "CEIEC",
        "CHINA NATIONAL ELECTRONICS IMPORT AND EXPORT CORPORATION",
        "CHINA NATIONAL ELECTRONIC IMPORT-EXPORT COMPANY",
    }
    addresses = ceiec.get("address")
    assert any("Beijing" in a for a in addresses) and any("Caracas" in a for a in addresses)
    assert set(ceiec.get("country")) == {"cn", "ve"}
    assert ceiec.get("registrationNumber") == ["16382287"]
    assert ceiec.get("uscCode") == ["9111000010000106X1"]
    assert ceiec.get("website") == ["https://www.ceiec.com"]
    assert ceiec.get("program") == ["VENEZUELA"] and ceiec.get("topics") == ["sanction"]


def test_identifiers_also_become_identification_entities_with_their_country() -> None:
    entities = by_id(parse(FIXTURES / "sdn"))
    doc = entities["ofac-sdn:30502-id-9111000010000106X1-cn"]
    assert doc.schema == "Identification"
    assert doc.get("holder") == ["ofac-sdn:30502"]
    assert doc.get("type") == ["Unified Social Credit Code (USCC)"]
    assert doc.get("country") == ["cn"]
    passport = entities["ofac-sdn:2686-id-042833-lb"]
    assert passport.schema == "Passport" and passport.get("number") == ["042833"]


def test_an_individual_with_several_dobs() -> None:
    person = by_id(parse(FIXTURES / "sdn"))["ofac-sdn:2686"]
    assert person.schema == "Person"
    assert person.get("name") == ["NASRALLAH, Hasan"]
    assert (person.get("lastName"), person.get("firstName")) == (["NASRALLAH"], ["Hasan"])
    assert person.get("birthDate") == ["1960-08-31", "1953-08-31", "1955-08-31", "1958-08-31"]
    assert person.get("birthPlace") == ["Al Basuriyah, Lebanon"]
    assert person.get("gender") == ["male"]
    assert person.get("passportNumber") == ["042833"]
    assert person.get("program") == ["SDGT", "SYRIA"]
    assert person.get("alias") == ["NASRALLAH, Hasan Abd-al-Karim"]


def test_quoted_akas_in_remarks_are_weak_aliases() -> None:
    person = by_id(parse(FIXTURES / "sdn"))["ofac-sdn:4106"]
    assert person.get("weakAlias") == ["PACHO", "H7"]
    assert person.get("idNumber") == ["16247821"]


def test_a_vessel_with_its_columns_and_remarks() -> None:
    entities = by_id(parse(FIXTURES / "sdn"))
    vessel = entities["ofac-sdn:15902"]
    assert vessel.schema == "Vessel"
    assert vessel.get("callSign") == ["5IM316"]
    assert vessel.get("type") == ["Crude Oil Tanker"]
    assert vessel.get("flag") == ["pa"]
    assert vessel.get("imoNumber") == ["IMO9569621"]
    assert vessel.get("pastFlags") == ["tz"]
    # the owner "NITC" is an alias of NATIONAL IRANIAN TANKER COMPANY: a reference, and a note
    assert vessel.get("owner") == ["ofac-sdn:15117"]
    assert "Vessel owner: NITC" in vessel.get("notes")
    artavil = entities["ofac-sdn:15036"]
    assert artavil.get("tonnage") == ["99,144"] and artavil.get("grossRegisteredTonnage") == ["56,068"]
    assert artavil.get("mmsi") == ["572469210"]
    assert "ABADAN" in artavil.get("previousName")


def test_an_aircraft_is_an_airplane() -> None:
    plane = by_id(parse(FIXTURES / "sdn"))["ofac-sdn:15431"]
    assert plane.schema == "Airplane"
    assert plane.get("model") == ["IL76-TD"]
    assert plane.get("buildDate") == ["1992"]
    assert "1023409321" in plane.get("serialNumber")


def test_linked_to_resolves_to_an_unknown_link_and_stays_a_note() -> None:
    parsed = parse(FIXTURES / "sdn")
    entities = by_id(parsed)
    link = entities["ofac-sdn:2686-link-4697"]
    assert link.schema == "UnknownLink"
    assert (link.get("subject"), link.get("object")) == (["ofac-sdn:2686"], ["ofac-sdn:4697"])
    assert "Linked To: HIZBALLAH" in entities["ofac-sdn:2686"].get("notes")
    # LAZARUS GROUP is not in the fixture: a note only, and a warning
    assert "Linked To: LAZARUS GROUP" in entities["ofac-sdn:28264"].get("notes")
    assert not any(e.id.startswith("ofac-sdn:28264-link-") for e in parsed.entities)
    assert any("Linked To" in w for w in parsed.warnings)


def test_remarks_continue_in_the_comments_file() -> None:
    entities = by_id(parse(FIXTURES / "sdn"))
    li = entities["ofac-sdn:28264"]
    # "...; P" in sdn.csv + "hone Number 8613314257947; ..." in sdn_comments.csv
    assert li.get("phone") == ["8613314257947", "8618004121000"]
    assert li.get("idNumber") == ["210302198701102136"]
    assert li.get("weakAlias") == ["blackjack1987", "khaleesi"]
    wallets = [e for e in entities.values() if e.schema == "CryptoWallet" and e.get("holder") == [li.id]]
    assert len(wallets) == 12
    assert all(w.get("currency") == ["XBT"] for w in wallets)


def test_raw_keeps_the_source_rows() -> None:
    ceiec = by_id(parse(FIXTURES / "sdn"))["ofac-sdn:30502"]
    assert ceiec.raw is not None
    assert ceiec.raw["sdn"][:3] == ["30502", "CEIEC", "-0- "]
    assert [a[1] for a in ceiec.raw["add"]] == ["46123", "46124"]
    assert [a[3] for a in ceiec.raw["alt"]] == [
        "CHINA NATIONAL ELECTRONICS IMPORT AND EXPORT CORPORATION",
        "CHINA NATIONAL ELECTRONIC IMPORT-EXPORT COMPANY",
    ]
    li = by_id(parse(FIXTURES / "sdn"))["ofac-sdn:28264"]
    assert li.raw is not None and li.raw["comments"][0][1].startswith("hone Number")


def test_the_consolidated_set_reads_with_its_own_file_names() -> None:
    parsed = parse(FIXTURES / "cons", "ofac-cons")
    entities = by_id(parsed)
    bank = entities["ofac-cons:17014"]
    # "Registration Numbe" + "r 1027700342890 (Russia)" across the two files
    assert "1027700342890" in bank.get("registrationNumber")
    assert bank.get("swiftBic") == ["RUAGRUMM"]
    assert bank.get("weakAlias") == ["RUSAG"]
    person = entities["ofac-cons:9639"]
    assert person.get("birthDate") == ["1962"] and person.get("birthPlace") == ["Shati"]
    assert len(listed(parsed)) == 2


def test_reading_twice_gives_equal_entities() -> None:
    first = [e.content_hash() for e in parse(FIXTURES / "sdn").entities]
    second = [e.content_hash() for e in parse(FIXTURES / "sdn").entities]
    assert first == second


def test_the_sample_list_parses() -> None:
    parsed = parse(SAMPLE)
    entities = by_id(parsed)
    assert len(listed(parsed)) == 20
    assert all(invalid_properties(e) == [] for e in parsed.entities)
    assert "CHINA NATIONAL ELECTRONICS IMPORT AND EXPORT CORPORATION" in entities["ofac-sdn:30502"].names
    schemata = {e.schema for e in listed(parsed)}
    assert schemata == SCREENABLE
    hamsho = entities["ofac-sdn:12845"]  # one person, several spellings of Muhammad
    assert {"HAMSHO, Muhammad", "HAMSHO, Mohammed Saber", "HAMCHO, Mohamed"} <= set(hamsho.names)
    assert hamsho.get("birthDate") == ["1966-05-20"]
    assert any(e.get("imoNumber") for e in listed(parsed))
    assert any(e.get("birthDate") and e.get("alias") for e in listed(parsed))
    total = sum(p.stat().st_size for p in files(SAMPLE))
    assert total < 16_000


# --------------------------------------------------------------------------------------------------
# Malformed input
# --------------------------------------------------------------------------------------------------

SDN_ROW = b'10,"SMITH, John","individual","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"DOB 1960."\r\n'
ADD_ROW = b'10,1,"1 Main St","London","United Kingdom",-0- \r\n'
ALT_ROW = b'10,2,"aka","SMITH, Johnny",-0- \r\n'


def write_set(
    folder: Path,
    sdn: bytes = SDN_ROW,
    add: bytes = ADD_ROW,
    alt: bytes = ALT_ROW,
    comments: bytes | None = None,
) -> list[Path]:
    paths = []
    for name, data in (("sdn.csv", sdn), ("add.csv", add), ("alt.csv", alt), ("sdn_comments.csv", comments)):
        if data is not None:
            path = folder / name
            path.write_bytes(data)
            paths.append(path)
    return paths


def parse_error(paths: list[Path]) -> ParseError:
    with pytest.raises(ParseError) as info:
        read(paths, "ofac-sdn")
    return info.value


def test_a_minimal_set_reads(tmp_path: Path) -> None:
    parsed = read(write_set(tmp_path), "ofac-sdn")
    (person,) = parsed.entities
    assert person.get("alias") == ["SMITH, Johnny"]
    assert person.get("address") == ["1 Main St, London, United Kingdom"]
    assert person.get("country") == ["gb"]


def test_lf_endings_no_final_newline_and_a_clipped_null_are_read(tmp_path: Path) -> None:
    # the 2019 files: LF line ends, no newline at the end, the last "-0- " cut to "-0"
    paths = write_set(tmp_path, add=ADD_ROW.replace(b"-0- \r\n", b"-0"), sdn=SDN_ROW.replace(b"\r\n", b"\n"))
    (person,) = read(paths, "ofac-sdn").entities
    assert person.get("notes") == []
    assert person.get("birthDate") == ["1960"]


def test_a_truncated_row_names_the_missing_field(tmp_path: Path) -> None:
    err = parse_error(write_set(tmp_path, sdn=SDN_ROW + b'11,"JONES, Ann","individual"\r\n'))
    assert (Path(err.path or "").name, err.line, err.field) == ("sdn.csv", 2, "Program")


def test_too_many_fields(tmp_path: Path) -> None:
    err = parse_error(write_set(tmp_path, alt=ALT_ROW.replace(b"-0- ", b"-0- ,x")))
    assert (Path(err.path or "").name, err.line) == ("alt.csv", 1)
    assert "expected 5 fields, found 6" in str(err)


def test_an_unterminated_quote(tmp_path: Path) -> None:
    err = parse_error(write_set(tmp_path, sdn=SDN_ROW + b'11,"JONES, Ann,"individual",-0- \r\n'))
    assert Path(err.path or "").name == "sdn.csv" and err.line == 2
    assert "CSV" in str(err)


def test_a_nul_byte_is_bad_encoding(tmp_path: Path) -> None:
    err = parse_error(
        write_set(tmp_path, sdn=SDN_ROW + SDN_ROW.replace(b"10,", b"11,").replace(b"J", b"\x00"))
    )
    assert (Path(err.path or "").name, err.line) == ("sdn.csv", 2)


def test_a_byte_cp1252_leaves_undefined_is_bad_encoding(tmp_path: Path) -> None:
    err = parse_error(write_set(tmp_path, alt=ALT_ROW + ALT_ROW.replace(b"2,", b"3,").replace(b"J", b"\x81")))
    assert (Path(err.path or "").name, err.line) == ("alt.csv", 2)
    assert "0x81" in str(err)


def test_latin1_accents_are_read_as_cp1252(tmp_path: Path) -> None:
    parsed = read(write_set(tmp_path, alt=ALT_ROW.replace(b"Johnny", b"Jo\xe3o")), "ofac-sdn")
    assert parsed.entities[0].get("alias") == ["SMITH, Jo\u00e3o"]


def test_an_empty_file(tmp_path: Path) -> None:
    err = parse_error(write_set(tmp_path, add=b"\x1a"))
    assert Path(err.path or "").name == "add.csv" and "empty" in str(err)


def test_an_empty_comments_file_is_fine(tmp_path: Path) -> None:
    assert len(read(write_set(tmp_path, comments=b"\x1a"), "ofac-sdn").entities) == 1


@pytest.mark.parametrize(
    ("kwargs", "file", "field"),
    [
        ({"add": ADD_ROW.replace(b"10,", b"99,", 1)}, "add.csv", "ent_num"),
        ({"alt": ALT_ROW.replace(b"10,", b"99,", 1)}, "alt.csv", "ent_num"),
        ({"comments": b'99,"more"\r\n'}, "sdn_comments.csv", "ent_num"),
    ],
)
def test_rows_about_an_unlisted_ent_num(
    tmp_path: Path, kwargs: dict[str, bytes], file: str, field: str
) -> None:
    err = parse_error(write_set(tmp_path, **kwargs))
    assert (Path(err.path or "").name, err.line, err.field) == (file, 1, field)
    assert "99" in str(err)


def test_a_non_numeric_ent_num(tmp_path: Path) -> None:
    err = parse_error(write_set(tmp_path, sdn=SDN_ROW + SDN_ROW.replace(b"10,", b"1O,", 1)))
    assert (err.line, err.field) == (2, "ent_num")


def test_a_duplicate_ent_num(tmp_path: Path) -> None:
    err = parse_error(write_set(tmp_path, sdn=SDN_ROW + SDN_ROW))
    assert (Path(err.path or "").name, err.line, err.field) == ("sdn.csv", 2, "ent_num")
    assert "line 1" in str(err)


def test_a_duplicate_alias_number(tmp_path: Path) -> None:
    err = parse_error(write_set(tmp_path, alt=ALT_ROW + ALT_ROW))
    assert (err.line, err.field) == (2, "alt_num")


def test_an_unknown_sdn_type(tmp_path: Path) -> None:
    err = parse_error(write_set(tmp_path, sdn=SDN_ROW.replace(b'"individual"', b'"spaceship"')))
    assert (err.line, err.field) == (1, "SDN_Type")


def test_a_control_character_inside_the_file(tmp_path: Path) -> None:
    err = parse_error(write_set(tmp_path, sdn=SDN_ROW.replace(b"SMITH", b"SM\x1aITH") + SDN_ROW))
    assert err.line == 1


def test_a_missing_file_of_the_set(tmp_path: Path) -> None:
    paths = [p for p in write_set(tmp_path) if p.name != "alt.csv"]
    assert "alt.csv is missing" in str(parse_error(paths))


def test_a_file_that_is_not_part_of_the_set(tmp_path: Path) -> None:
    extra = tmp_path / "notes.txt"
    extra.write_text("hello")
    assert Path(parse_error([*write_set(tmp_path), extra]).path or "").name == "notes.txt"


def test_sdn_and_consolidated_files_do_not_mix(tmp_path: Path) -> None:
    cons = tmp_path / "cons_alt.csv"
    cons.write_bytes(ALT_ROW)
    paths = [p for p in write_set(tmp_path) if p.name != "alt.csv"] + [cons]
    assert "different lists" in str(parse_error(paths))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), target=st.sampled_from(["sdn", "add", "alt", "comments"]))
def test_arbitrary_bytes_either_read_or_raise_parse_error(tmp_path: Path, data: bytes, target: str) -> None:
    paths = write_set(tmp_path, **{target: data})
    try:
        result = read(paths, "ofac-sdn")
    except ParseError:
        return
    assert isinstance(result, ParsedList)


ROW_PARTS = st.lists(
    st.one_of(
        st.sampled_from(["-0- ", '"individual"', '"vessel"', '"a;b"', '""', "10", '"x""y"', "DOB 1960"]),
        st.text(alphabet=st.characters(codec="cp1252"), max_size=12),
    ),
    min_size=0,
    max_size=14,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW_PARTS, max_size=4))
def test_csv_shaped_garbage_either_reads_or_raises_parse_error(tmp_path: Path, rows: list[list[str]]) -> None:
    data = "".join(",".join(r) + "\r\n" for r in rows).encode("cp1252")
    try:
        read(write_set(tmp_path, sdn=SDN_ROW + data), "ofac-sdn")
    except ParseError:
        pass


# --------------------------------------------------------------------------------------------------
# The real files (../shared)
# --------------------------------------------------------------------------------------------------


def distinct_ent_nums(path: Path) -> int:
    """Counted without the csv module: every line of the OFAC files starts a row with its ent_num."""
    text = path.read_bytes().decode("cp1252")
    return len({m.group(1) for m in re.finditer(r"^(\d+),", text, re.MULTILINE)})


@pytest.mark.shared
def test_the_real_2021_sdn_set() -> None:
    folder = shared_set("ofac-sdn", "2021-07-07")
    parsed = parse(folder)
    parties = listed(parsed)
    assert len(parties) == 8976 == distinct_ent_nums(folder / "sdn.csv")
    entities = by_id(parsed)
    ceiec = entities["ofac-sdn:30502"]
    assert {
        "CEIEC",
        "CHINA NATIONAL ELECTRONICS IMPORT AND EXPORT CORPORATION",
        "CHINA NATIONAL ELECTRONIC IMPORT-EXPORT COMPANY",
    } <= set(ceiec.names)
    assert any("Beijing" in a for a in ceiec.get("address"))
    assert any("Caracas" in a for a in ceiec.get("address"))
    assert ceiec.get("registrationNumber") == ["16382287"]
    assert ceiec.get("uscCode") == ["9111000010000106X1"]
    assert ceiec.get("website") == ["https://www.ceiec.com"]
    # aliases, addresses and remarks made it across the whole file
    assert (
        sum(len(e.get("alias")) + len(e.get("previousName")) + len(e.get("weakAlias")) for e in parties)
        > 11_900
    )
    with_address = {
        line.split(",", 1)[0]
        for line in (folder / "add.csv").read_text(encoding="cp1252").splitlines()
        if re.match(r"^\d+,\d+,", line) and not re.match(r"^\d+,\d+,-0- ,-0- ,-0- ,", line)
    }
    assert {e.id.split(":")[1] for e in parties if e.get("address")} == with_address
    assert sum(1 for e in parties if e.get("birthDate")) > 4000
    assert sum(1 for e in parties if e.get("imoNumber")) > 350


@pytest.mark.shared
def test_no_property_outside_followthemoney_in_the_real_sdn_set() -> None:
    parsed = parse(shared_set("ofac-sdn", "2021-07-07"))
    invalid = {e.id: invalid_properties(e) for e in parsed.entities if invalid_properties(e)}
    assert invalid == {}


@pytest.mark.shared
def test_the_real_2019_sdn_set() -> None:
    folder = shared_set("ofac-sdn", "2019-01-15")
    parsed = parse(folder)
    assert len(listed(parsed)) == distinct_ent_nums(folder / "sdn.csv") == 7379
    assert all(invalid_properties(e) == [] for e in parsed.entities)


@pytest.mark.shared
def test_the_real_consolidated_set() -> None:
    folder = shared_set("ofac-consolidated", "2025-12-19")
    parsed = parse(folder, "ofac-cons")
    assert len(listed(parsed)) == distinct_ent_nums(folder / "cons_prim.csv") == 442
    assert all(e.id.startswith("ofac-cons:") for e in parsed.entities)
    assert all(invalid_properties(e) == [] for e in parsed.entities)
