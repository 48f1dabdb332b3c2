"""The OFAC remarks parser: each kind of item, the data table, and no input makes it raise."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.lists.ofac_remarks import (
    Remarks,
    allowed,
    country_code,
    parse_dates,
    parse_remarks,
    strip_full_stop,
    table,
)


def props(remarks: Remarks, prop: str) -> list[str]:
    return [f.value for f in remarks.properties if f.prop == prop]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 Jan 1960", ["1960-01-12"]),
        ("1960", ["1960"]),
        ("Jan 1960", ["1960-01"]),
        ("circa 1960", ["1960"]),
        ("circa 1958-1960", ["1958", "1959", "1960"]),
        ("1960 to 1962", ["1960", "1961", "1962"]),
        ("01 Jan 1960 to 31 Dec 1962", ["1960", "1961", "1962"]),
        ("10 Jun 1958 to 15 Jun 1958", ["1958-06-10", "1958-06-15"]),
        ("1900 to 1990", ["1900", "1990"]),
        ("31 Feb 1960", []),
        ("sometime", []),
    ],
)
def test_dates_are_read_into_followthemoney_form(text: str, expected: list[str]) -> None:
    assert parse_dates(text) == expected


def test_several_dobs_are_all_kept_in_order() -> None:
    r = parse_remarks("DOB 31 Aug 1960; alt. DOB 1953; alt. DOB circa 1955; POB Al Basuriyah, Lebanon.")
    assert props(r, "birthDate") == ["1960-08-31", "1953", "1955"]
    assert props(r, "birthPlace") == ["Al Basuriyah, Lebanon"]
    assert r.notes == []


def test_an_unreadable_dob_is_kept_as_a_note() -> None:
    r = parse_remarks("DOB unknown")
    assert props(r, "birthDate") == []
    assert r.notes == ["DOB unknown"]


def test_nationality_citizenship_and_gender() -> None:
    r = parse_remarks("nationality Korea, North; alt. citizen Russia; Gender Female.")
    assert props(r, "nationality") == ["kp"]
    assert props(r, "citizenship") == ["ru"]
    assert props(r, "gender") == ["female"]


def test_an_unknown_country_is_kept_as_a_note() -> None:
    r = parse_remarks("nationality possibly Palestinian")
    assert props(r, "nationality") == []
    assert r.notes == ["nationality possibly Palestinian"]


def test_passport_with_country_and_dates() -> None:
    r = parse_remarks("Passport K754050 (Pakistan) issued 26 May 1999 expires 25 May 2004")
    (ident,) = r.identifiers
    assert (ident.prop, ident.number, ident.country) == ("passportNumber", "K754050", "pk")
    assert (ident.issued, ident.expires, ident.passport) == ("1999-05-26", "2004-05-25", True)


def test_identifier_numbers_keep_inner_parentheses_that_are_not_countries() -> None:
    r = parse_remarks(
        "National ID No. K357514(4) (Hong Kong); Cedula No. 123 (Medellin); Kenyan ID No. 1372584, Kenya"
    )
    first, second, third = r.identifiers
    assert (first.number, first.country) == ("K357514(4)", "hk")
    assert (second.number, second.country) == ("123 (Medellin)", None)
    assert (third.number, third.country) == ("1372584", "ke")


def test_registration_uscc_tax_and_website() -> None:
    r = parse_remarks(
        "Website https://www.ceiec.com; Registration Number 16382287 (China); "
        "Unified Social Credit Code (USCC) 9111000010000106X1 (China); NIT # 800146749-7 (Colombia)."
    )
    assert props(r, "website") == ["https://www.ceiec.com"]
    found = {(i.prop, i.number, i.country) for i in r.identifiers}
    assert found == {
        ("registrationNumber", "16382287", "cn"),
        ("uscCode", "9111000010000106X1", "cn"),
        ("taxNumber", "800146749-7", "co"),
    }


def test_quoted_aka_is_a_weak_alias_and_fka_a_previous_name() -> None:
    r = parse_remarks("a.k.a. 'PACHO'; a.k.a. 'O'NEIL'; f.k.a. 'ANA I'.")
    assert props(r, "weakAlias") == ["PACHO", "O'NEIL"]
    assert props(r, "previousName") == ["ANA I"]


def test_linked_to_names_are_collected() -> None:
    r = parse_remarks("Linked To: HIZBALLAH; Linked To: R D I S.A.")
    assert r.links == ["HIZBALLAH", "R D I S.A."]


def test_full_stop_is_dropped_except_after_an_abbreviation() -> None:
    assert strip_full_stop("Linked To: HIZBALLAH.") == "Linked To: HIZBALLAH"
    assert strip_full_stop("Linked To: CIMEX, S.A.") == "Linked To: CIMEX, S.A."
    assert strip_full_stop("ANGLO-CARIBBEAN CO., LTD.") == "ANGLO-CARIBBEAN CO., LTD."


def test_digital_currency_addresses() -> None:
    r = parse_remarks(
        "Digital Currency Address - XBT 12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h; "
        "alt. Digital Currency Address - ETH 0x8576acc5c05d6ce88f4e49bf65bdf0c62f91353c"
    )
    assert [(w.currency, w.address) for w in r.wallets] == [
        ("XBT", "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"),
        ("ETH", "0x8576acc5c05d6ce88f4e49bf65bdf0c62f91353c"),
    ]


def test_vessel_items() -> None:
    r = parse_remarks(
        "Former Vessel Flag Malta; alt. Former Vessel Flag None Identified; "
        "Vessel Registration Identification IMO 9187629; MMSI 572469210"
    )
    assert props(r, "imoNumber") == ["IMO9187629"]
    assert props(r, "mmsi") == ["572469210"]
    assert props(r, "pastFlags") == ["mt"]
    assert r.notes == ["alt. Former Vessel Flag None Identified"]


def test_aircraft_items() -> None:
    r = parse_remarks(
        "Aircraft Construction Number (also called L/N or S/N or F/N) 8401; Aircraft Manufacture Date"
        " Sep 1992; Aircraft Model IL76-TD; Aircraft Operator YAS AIR; Aircraft Manufacturer's Serial"
        " Number (MSN) 1023409321; Aircraft Tail Number EP-GOM"
    )
    assert props(r, "serialNumber") == ["8401", "1023409321"]
    assert props(r, "buildDate") == ["1992-09"]
    assert props(r, "model") == ["IL76-TD"]
    assert props(r, "registrationNumber") == ["EP-GOM"]
    assert r.notes == ["Aircraft Operator YAS AIR"]


def test_organization_items() -> None:
    r = parse_remarks(
        "Organization Established Date 17 Dec 2016; Organization Type: Wholesale of fuels; "
        "Email Address info@nitc.co.ir; Phone Number 982188526300"
    )
    assert props(r, "incorporationDate") == ["2016-12-17"]
    assert props(r, "sector") == ["Wholesale of fuels"]
    assert props(r, "email") == ["info@nitc.co.ir"]
    assert props(r, "phone") == ["982188526300"]


def test_sanctions_information_and_unknown_items_are_kept_as_notes() -> None:
    r = parse_remarks(
        "Additional Sanctions Information - Subject to Secondary Sanctions; ICTY indictee; "
        "Secondary sanctions risk: North Korea Sanctions Regulations, sections 510.201 and 510.210."
    )
    assert r.notes == [
        "Additional Sanctions Information - Subject to Secondary Sanctions",
        "ICTY indictee",
        "Secondary sanctions risk: North Korea Sanctions Regulations, sections 510.201 and 510.210",
    ]
    assert r.properties == [] and r.identifiers == []


def test_labels_are_not_matched_inside_longer_words() -> None:
    r = parse_remarks("Passports unknown; DOBson")
    assert r.identifiers == [] and props(r, "birthDate") == []
    assert r.notes == ["Passports unknown", "DOBson"]


def test_empty_or_null_remarks_give_nothing() -> None:
    for text in (None, "", " ; ;"):
        r = parse_remarks(text)
        assert (r.properties, r.identifiers, r.wallets, r.links, r.notes) == ([], [], [], [], [])


def test_properties_fall_back_or_go_to_notes_where_the_schema_lacks_them() -> None:
    assert allowed("Person", "passportNumber") == "passportNumber"
    assert allowed("Organization", "passportNumber") == "idNumber"
    assert allowed("Organization", "birthDate") is None
    assert allowed("Vessel", "imoNumber") == "imoNumber"


def test_the_table_agrees_with_followthemoney() -> None:
    from followthemoney import model, registry

    tbl = table()
    for schema_name, allowed_props in tbl.schemata.items():
        schema = model.get(schema_name)
        assert schema is not None, schema_name
        missing = allowed_props - set(schema.properties)
        assert not missing, f"{schema_name} has no {sorted(missing)}"
    emitted = {r.prop for r in tbl.rules.values() if r.prop}
    for prop in emitted:
        for schema_name, allowed_props in tbl.schemata.items():
            # a property the schema has must be listed, or the reader would wrongly drop it to notes
            if prop in model.get(schema_name).properties:
                assert prop in allowed_props, f"{prop} missing from schemata.{schema_name}"
    codes = set(tbl.countries.values()) - {""}
    assert codes and all(registry.country.clean(code) == code for code in codes)


def test_country_names_as_ofac_writes_them() -> None:
    assert country_code("Korea, North") == "kp"
    assert country_code("Congo, Democratic Republic of the") == "cd"
    assert country_code("Burma") == "mm"
    assert country_code("Region: Crimea") == "ua-cri"
    assert country_code("None Identified") is None
    assert country_code("Atlantis") is None


LABELS = sorted(r.label for r in table().rules.values())
ITEM = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda alt, label, sep, value: f"{alt}{label}{sep}{value}",
        st.sampled_from(["", "alt. "]),
        st.sampled_from(LABELS),
        st.sampled_from([" ", ": ", " - ", "", "  "]),
        st.text(max_size=40),
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(ITEM, max_size=8).map("; ".join))
def test_the_parser_never_raises_and_loses_no_item(text: str) -> None:
    r = parse_remarks(text)
    assert isinstance(r, Remarks)
    stated = len(r.properties) + len(r.identifiers) + len(r.wallets) + len(r.links) + len(r.notes)
    items = [i for i in (p.strip() for p in text.split(";")) if i]
    # every item gives at least one result (a date range gives several)
    assert stated >= len(items)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_the_parser_never_raises_on_arbitrary_text(text: str) -> None:
    parse_remarks(text)
    parse_dates(text)
