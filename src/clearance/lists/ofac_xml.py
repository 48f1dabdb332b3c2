"""OFAC's XML publications from the Sanctions List Service: ``sdn.xml`` / ``cons_prim.xml`` (the classic
``sdnList`` layout) and ``SDN_ADVANCED.xml`` / ``CONS_ADVANCED.xml`` (the ``Sanctions`` layout).

Namespaces are ignored (OFAC has published the same layout under several). Ids are ``<list>:<uid>``
(``ofac-sdn:30502`` for CEIEC), the same numbers as the CSV files' ``ent_num``, and the property names
are the ones the CSV reader uses.

Classic layout, per ``sdnEntry``: sdnType Individual/Entity/Vessel/Aircraft → Person/Organization/
Vessel/Airplane; a person's name is written ``LAST, First`` as in the CSV files (and firstName/lastName); akaList a.k.a./n.k.a. → alias,
f.k.a. → previousName, category weak → weakAlias; programList → program; idList by idType through the CSV
reader's label table ``data/ofac/remarks.yaml`` (else ``data/document_types.yaml``: Passport →
passportNumber, Website → website, Vessel Registration Identification → imoNumber ``IMO9187629``, ...), idCountry → country;
dateOfBirthList, placeOfBirthList, nationalityList, citizenshipList, addressList; vesselInfo (callSign,
vesselType, vesselFlag, tonnage, grossRegisteredTonnage; the owner as a note); title → position;
remarks → notes. ``Publish_Date`` (MM/DD/YYYY) → published.

Advanced layout (names, types, programs, dates of birth, places, nationality, addresses and documents):
``DistinctParty/Profile`` with ``PartySubTypeID`` resolved through ``ReferenceValueSets``;
``Identity/Alias/DocumentedName`` parts joined by their ``NamePartType`` (First, Middle, Last ...);
programs from ``SanctionsEntries`` (the Comment of "Program" measures, else the list's name); features
(Birthdate, Place of Birth, Nationality Country, Citizenship Country, Location, Vessel Call Sign, ...)
through ``data/document_types.yaml`` and :data:`FEATURES`; documents from ``IDRegDocuments``.
``DateOfIssue`` → published.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml
from lxml import etree

from clearance.errors import ParseError
from clearance.lists.base import ParsedList
from clearance.lists.common import (
    DATA_DIR,
    add,
    add_country,
    add_identifier,
    country_code,
    date_values,
    document_types,
    index_children,
    iso_date,
    join,
    leaf_texts,
    parse_xml,
    text_of,
    warn_unknown_countries,
    xml_to_dict,
)
from clearance.model import Entity, entity_id

SCHEMATA = {
    "individual": "Person",
    "entity": "Organization",
    "vessel": "Vessel",
    "aircraft": "Airplane",
}
GIVEN = ("first name", "middle name", "patronymic", "matronymic")
FAMILY = ("last name", "maiden name")
ALIAS_TYPES = {"a.k.a.": "alias", "n.k.a.": "alias", "f.k.a.": "previousName", "name": "name"}

#: Advanced-layout features (by their FeatureType name, lower case) -> property. Other features go
#: through data/document_types.yaml, which knows websites, emails, call signs, build dates and the like.
FEATURES = {
    "birthdate": "birthDate",
    "place of birth": "birthPlace",
    "nationality country": "nationality",
    "citizenship country": "citizenship",
    "location": "address",
    "vessel flag": "flag",
    "nationality of registration": "country",
    "gender": "gender",
}


@lru_cache(maxsize=1)
def _csv_rules() -> dict[str, tuple[str, str | None]]:
    """The OFAC CSV reader's label table (data/ofac/remarks.yaml): label -> (kind, property).

    Using it here keeps both OFAC readers on the same property for the same OFAC label (USCC ->
    uscCode, Organization Type -> sector, ...); labels it lacks go through data/document_types.yaml.
    """
    path = DATA_DIR / "ofac" / "remarks.yaml"
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except (OSError, yaml.YAMLError):
        return {}
    out: dict[str, tuple[str, str | None]] = {}
    for rule in data.get("rules") or []:
        if isinstance(rule, dict) and rule.get("label"):
            out.setdefault(_label_key(str(rule["label"])), (str(rule.get("kind", "text")), rule.get("prop")))
    return out


def _label_key(label: str) -> str:
    return " ".join(label.casefold().split()).rstrip(":-. ").strip()


def imo_number(value: str) -> str:
    """IMO numbers the way the CSV reader writes them: ``IMO 9187629`` -> ``IMO9187629``."""
    compact = "".join(value.split())
    return "IMO" + compact[3:] if compact.upper().startswith("IMO") else compact


def _identifier(entity: Entity, label: str | None, value: str | None, unknown: set[str]) -> None:
    if value is None or not value.strip():
        return
    rule = _csv_rules().get(_label_key(label or ""))
    if rule is None:
        is_imo = document_types().prop_for(label) == "imoNumber"
        add_identifier(entity, label, imo_number(value) if is_imo else value, unknown)
        return
    kind, prop = rule
    if prop is None or kind in ("note", "link", "wallet", "quoted"):
        add(entity, "notes", f"{label}: {value}")
    elif kind == "date":
        for day in date_values(value):
            add(entity, prop, day, label=label)
    elif kind == "country":
        add_country(entity, prop, value, unknown)
    elif kind == "lower":
        add(entity, prop, value.lower(), label=label)
    elif kind == "imo":
        add(entity, prop, imo_number(value), label=label)
    else:
        add(entity, prop, value, label=label)


def person_name(first: str | None, last: str | None) -> str | None:
    """A person's name as OFAC's CSV files write it: ``LAST, First`` (either part alone as given)."""
    if first and last:
        return f"{last}, {first}"
    return last or first


def read(paths: Sequence[Path], list_name: str) -> ParsedList:
    entities: list[Entity] = []
    seen: dict[str, tuple[Path, int | None]] = {}
    warnings: list[str] = []
    published: date | None = None
    for path in paths:
        root = parse_xml(path)
        unknown: set[str] = set()
        if root.tag == "sdnList":
            stated, found = _read_classic(path, root, list_name, unknown)
        elif root.tag == "Sanctions":
            stated, found = _read_advanced(path, root, list_name, unknown)
        else:
            raise ParseError(
                f"root element is <{root.tag}>, expected <sdnList> (sdn.xml) or <Sanctions> (SDN_ADVANCED.xml)",
                path=path,
                line=root.sourceline,
            )
        for entity, line in found:
            if entity.id in seen:
                other = seen[entity.id]
                raise ParseError(
                    f"uid {entity.id.split(':', 1)[1]!r} appears twice (first at {other[0]} line {other[1]})",
                    path=path,
                    line=line,
                    field="uid",
                )
            seen[entity.id] = (path, line)
            entities.append(entity)
        if stated is not None and (published is None or stated > published):
            published = stated
        warn_unknown_countries(warnings, path, unknown)
    return ParsedList(entities=entities, published=published, warnings=warnings)


# --------------------------------------------------------------------------------------------------
# sdn.xml
# --------------------------------------------------------------------------------------------------


def _read_classic(
    path: Path, root: etree._Element, list_name: str, unknown: set[str]
) -> tuple[date | None, list[tuple[Entity, int | None]]]:
    published: date | None = None
    info = root.find("publshInformation")
    if info is not None:
        raw = text_of(info.find("Publish_Date"))
        if raw is not None:
            value = iso_date(raw)
            if value is None or len(value) != 10:
                raise ParseError(
                    f"Publish_Date {raw!r} is not a date (MM/DD/YYYY)",
                    path=path,
                    line=info.sourceline,
                    field="Publish_Date",
                )
            published = date.fromisoformat(value)
    found = [
        (_classic_entry(path, el, list_name, unknown), el.sourceline) for el in root.iterfind("sdnEntry")
    ]
    return published, found


def _classic_entry(path: Path, el: etree._Element, list_name: str, unknown: set[str]) -> Entity:
    leaves = leaf_texts(el)
    kids = index_children(el)
    uid = leaves.get("uid")
    if uid is None:
        raise ParseError("<sdnEntry> has no uid", path=path, line=el.sourceline, field="uid")
    kind = leaves.get("sdnType", "entity").lower()
    schema = SCHEMATA.get(kind)
    if schema is None:
        raise ParseError(
            f"sdnType {leaves.get('sdnType')!r} is not Individual, Entity, Vessel or Aircraft",
            path=path,
            line=el.sourceline,
            field="sdnType",
        )
    entity = Entity(id=entity_id(list_name, uid), schema=schema, datasets=[list_name], raw=xml_to_dict(el))
    first, last = leaves.get("firstName"), leaves.get("lastName")
    name = person_name(first, last) if schema == "Person" else join([first, last], " ")
    if name is None:
        raise ParseError(f"<sdnEntry> {uid} has no name", path=path, line=el.sourceline, field="lastName")
    add(entity, "name", name)
    if schema == "Person":
        add(entity, "firstName", first)
        add(entity, "lastName", last)
    add(entity, "topics", "sanction")
    add(entity, "position", leaves.get("title"))
    add(entity, "notes", leaves.get("remarks"))
    for holder in kids.get("programList", ()):
        for program in holder:
            add(entity, "program", text_of(program))
    for holder in kids.get("akaList", ()):
        for aka in holder:
            a = leaf_texts(aka)
            prop = ALIAS_TYPES.get(a.get("type", "a.k.a.").lower(), "alias")
            if a.get("category", "").lower() == "weak":
                prop = "weakAlias"
            if schema == "Person":
                alias = person_name(a.get("firstName"), a.get("lastName"))
            else:
                alias = join([a.get("firstName"), a.get("lastName")], " ")
            add(entity, "alias" if prop == "name" else prop, alias)
    for holder in kids.get("addressList", ()):
        for addr in holder:
            a = leaf_texts(addr)
            parts = [
                a.get(k)
                for k in ("address1", "address2", "address3", "city", "stateOrProvince", "postalCode")
            ]
            if any(parts):
                add(entity, "address", join([*parts, a.get("country")]))
            add_country(entity, "country", a.get("country"), unknown)
    for holder in kids.get("idList", ()):
        for item in holder:
            i = leaf_texts(item)
            _identifier(entity, i.get("idType"), i.get("idNumber"), unknown)
            add_country(entity, "country", i.get("idCountry"), unknown)
    for holder in kids.get("dateOfBirthList", ()):
        for item in holder:
            for value in date_values(leaf_texts(item).get("dateOfBirth")):
                add(entity, "birthDate", value)
    for holder in kids.get("placeOfBirthList", ()):
        for item in holder:
            add(entity, "birthPlace", leaf_texts(item).get("placeOfBirth"))
    for list_tag, prop in (("nationalityList", "nationality"), ("citizenshipList", "citizenship")):
        for holder in kids.get(list_tag, ()):
            for item in holder:
                add_country(entity, prop, leaf_texts(item).get("country"), unknown)
    for info in kids.get("vesselInfo", ()):
        v = leaf_texts(info)
        add(entity, "callSign", v.get("callSign"))
        add(entity, "type", v.get("vesselType"))
        add_country(entity, "flag", v.get("vesselFlag"), unknown)
        add(entity, "tonnage", v.get("tonnage"))
        add(entity, "grossRegisteredTonnage", v.get("grossRegisteredTonnage"))
        if v.get("vesselOwner"):
            add(entity, "notes", f"Vessel owner: {v['vesselOwner']}")
    return entity


# --------------------------------------------------------------------------------------------------
# SDN_ADVANCED.xml
# --------------------------------------------------------------------------------------------------


class _Refs:
    """ReferenceValueSets: ``(set, id) -> element``, e.g. ``("PartySubType", "4")``."""

    def __init__(self, root: etree._Element) -> None:
        self.values: dict[tuple[str, str], etree._Element] = {}
        sets = root.find("ReferenceValueSets")
        if sets is None:
            return
        for group in sets:
            for value in group:
                if isinstance(value.tag, str) and value.get("ID") is not None:
                    self.values[(value.tag, value.get("ID", ""))] = value

    def text(self, kind: str, ref: str | None) -> str | None:
        el = self.values.get((kind, ref or ""))
        return text_of(el) if el is not None else None

    def get(self, kind: str, ref: str | None) -> etree._Element | None:
        return self.values.get((kind, ref or ""))


def _adv_date(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    year, month, day = (text_of(el.find(k)) for k in ("Year", "Month", "Day"))
    if year is None:
        return None
    if month is None:
        return iso_date(year)
    if day is None:
        return iso_date(f"{year}-{int(month):02d}") if month.isdecimal() else iso_date(year)
    return iso_date(f"{year}-{month}-{day}") if month.isdecimal() and day.isdecimal() else iso_date(year)


def _period(period: etree._Element) -> list[str]:
    """A DatePeriod as dates: one when start and end agree, a year when it spans exactly one year."""
    ends: list[str] = []
    for side in ("Start", "End"):
        el = period.find(side)
        if el is None:
            continue
        frm, to = _adv_date(el.find("From")), _adv_date(el.find("To"))
        ends.extend(d for d in (frm, to) if d)
    ends = sorted(set(ends))
    if not ends:
        return []
    if len(ends) == 1:
        return ends
    lo, hi = ends[0], ends[-1]
    if lo[:4] == hi[:4] and lo.endswith("-01-01") and hi.endswith("-12-31"):
        return [lo[:4]]
    return date_values(f"{lo[:4]} to {hi[:4]}") if lo[:4] != hi[:4] else [lo, hi]


def _read_advanced(
    path: Path, root: etree._Element, list_name: str, unknown: set[str]
) -> tuple[date | None, list[tuple[Entity, int | None]]]:
    refs = _Refs(root)
    published = None
    issued = _adv_date(
        root.find("DateOfIssue/Date")
        if root.find("DateOfIssue/Date") is not None
        else root.find("DateOfIssue")
    )
    if issued is not None and len(issued) == 10:
        published = date.fromisoformat(issued)
    locations = {loc.get("ID", ""): loc for loc in root.iterfind("Locations/Location")}
    documents: dict[str, list[etree._Element]] = {}
    for doc in root.iterfind("IDRegDocuments/IDRegDocument"):
        documents.setdefault(doc.get("IdentityID", ""), []).append(doc)
    programs: dict[str, list[str]] = {}
    for entry in root.iterfind("SanctionsEntries/SanctionsEntry"):
        found = programs.setdefault(entry.get("ProfileID", ""), [])
        named = [
            text_of(m.find("Comment"))
            for m in entry.iterfind("SanctionsMeasure")
            if refs.text("SanctionsType", m.get("SanctionsTypeID")) == "Program"
        ]
        found.extend(p for p in named if p)
        if not named:
            list_label = refs.text("List", entry.get("ListID"))
            if list_label:
                found.append(list_label)
    out: list[tuple[Entity, int | None]] = []
    for party in root.iterfind("DistinctParties/DistinctParty"):
        for profile in party.iterfind("Profile"):
            entity = _adv_profile(
                path, party, profile, refs, list_name, locations, documents, programs, unknown
            )
            out.append((entity, profile.sourceline))
    return published, out


def _adv_location(loc: etree._Element | None, refs: _Refs) -> tuple[str | None, str | None]:
    """(address text, country name) of a Location."""
    if loc is None:
        return None, None
    country = None
    for lc in loc.iterfind("LocationCountry"):
        country = refs.text("Country", lc.get("CountryID")) or country
    for ac in loc.iterfind("LocationAreaCode"):
        area = refs.get("AreaCode", ac.get("AreaCodeID"))
        if area is not None and country is None:
            country = area.get("Description")
    parts = [text_of(p.find("LocationPartValue/Value")) for p in loc.iterfind("LocationPart")]
    return join([*parts, country]), country


def _adv_profile(
    path: Path,
    party: etree._Element,
    profile: etree._Element,
    refs: _Refs,
    list_name: str,
    locations: dict[str, etree._Element],
    documents: dict[str, list[etree._Element]],
    programs: dict[str, list[str]],
    unknown: set[str],
) -> Entity:
    uid = profile.get("ID") or party.get("FixedRef")
    if not uid:
        raise ParseError("<Profile> has no ID", path=path, line=profile.sourceline, field="ID")
    sub = refs.get("PartySubType", profile.get("PartySubTypeID"))
    if sub is None:
        raise ParseError(
            f"PartySubTypeID {profile.get('PartySubTypeID')!r} is not in ReferenceValueSets",
            path=path,
            line=profile.sourceline,
            field="PartySubTypeID",
        )
    kind = (text_of(sub) or "").lower()
    if kind == "unknown":
        kind = (refs.text("PartyType", sub.get("PartyTypeID")) or "").lower()
    schema = SCHEMATA.get(kind)
    if schema is None:
        raise ParseError(
            f"party type {kind!r} is not Individual, Entity, Vessel or Aircraft",
            path=path,
            line=profile.sourceline,
            field="PartySubTypeID",
        )
    entity = Entity(id=entity_id(list_name, uid), schema=schema, datasets=[list_name], raw=xml_to_dict(party))
    add(entity, "topics", "sanction")
    add(entity, "notes", text_of(party.find("Comment")))
    for program in programs.get(uid, []):
        add(entity, "program", program)
    for identity in profile.iterfind("Identity"):
        groups = {
            g.get("ID", ""): (refs.text("NamePartType", g.get("NamePartTypeID")) or "").lower()
            for g in identity.iterfind("NamePartGroups/MasterNamePartGroup/NamePartGroup")
        }
        for alias in identity.iterfind("Alias"):
            _adv_alias(entity, alias, groups, refs)
        for doc in documents.get(identity.get("ID", ""), []):
            label = refs.text("IDRegDocType", doc.get("IDRegDocTypeID"))
            _identifier(entity, label, text_of(doc.find("IDRegistrationNo")), unknown)
            add_country(entity, "country", refs.text("Country", doc.get("IssuedBy-CountryID")), unknown)
    for feature in profile.iterfind("Feature"):
        label = refs.text("FeatureType", feature.get("FeatureTypeID")) or ""
        prop = FEATURES.get(label.lower())
        for version in feature.iterfind("FeatureVersion"):
            values: list[str] = []
            for period in version.iter("DatePeriod"):
                values.extend(_period(period))
            for detail in version.iterfind("VersionDetail"):
                ref = detail.get("DetailReferenceID")
                value = refs.text("DetailReference", ref) if ref else text_of(detail)
                if value:
                    values.append(value)
            for vloc in version.iterfind("VersionLocation"):
                address, country = _adv_location(locations.get(vloc.get("LocationID", "")), refs)
                if prop in ("address", None):
                    if address and address != country:
                        add(entity, "address", address)
                    add_country(entity, "country", country, unknown)
                elif prop == "birthPlace":
                    add(entity, "birthPlace", address)
                else:
                    values.append(country or address or "")
            for value in values:
                if prop is None:
                    _identifier(entity, label, value, unknown)
                elif prop in ("nationality", "citizenship", "flag", "country"):
                    if country_code(value):
                        add_country(entity, prop, value, unknown)
                elif prop == "gender":
                    add(entity, "gender", value.lower())
                elif prop != "address":
                    add(entity, prop, value)
    return entity


def _adv_alias(entity: Entity, alias: etree._Element, groups: dict[str, str], refs: _Refs) -> None:
    kind = (refs.text("AliasType", alias.get("AliasTypeID")) or "a.k.a.").lower()
    prop = ALIAS_TYPES.get(kind, "alias")
    if alias.get("LowQuality", "false").lower() == "true":
        prop = "weakAlias"
    for documented in alias.iterfind("DocumentedName"):
        parts: dict[str, list[str]] = {}
        for value in documented.iterfind("DocumentedNamePart/NamePartValue"):
            text = text_of(value)
            if text:
                parts.setdefault(groups.get(value.get("NamePartGroupID", ""), ""), []).append(text)
        given = " ".join(" ".join(parts[k]) for k in GIVEN if k in parts)
        family = " ".join(" ".join(parts[k]) for k in FAMILY if k in parts)
        others = " ".join(" ".join(v) for k, v in parts.items() if k not in GIVEN + FAMILY)
        full = join([person_name(given or None, family or None), others], " ") or ""
        if not full:
            continue
        if prop == "name" and entity.first("name") is not None:
            add(entity, "alias", full)
            continue
        add(entity, prop, full)
        if prop == "name" and entity.schema == "Person":
            add(entity, "firstName", " ".join(parts.get("first name", [])) or None)
            add(entity, "lastName", " ".join(parts.get("last name", [])) or None)
