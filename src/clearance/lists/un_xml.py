"""The UN Security Council consolidated list (``consolidated.xml``).

Layout: ``CONSOLIDATED_LIST[@dateGenerated]`` holding ``INDIVIDUALS/INDIVIDUAL`` (read as Person) and
``ENTITIES/ENTITY`` (read as Organization). Ids are ``<list>:<REFERENCE_NUMBER>`` (``un-sc:QDi.001``).

Mapping, besides names (FIRST..FOURTH_NAME joined in order):

- ``INDIVIDUAL_ALIAS``/``ENTITY_ALIAS``: QUALITY Good or a.k.a. → alias, Low → weakAlias,
  f.k.a. → previousName; NAME_ORIGINAL_SCRIPT → alias.
- dates of birth: EXACT and APPROXIMATELY give DATE or YEAR; BETWEEN gives each year FROM..TO (both
  bounds only for spans over ten years).
- documents: the type (TYPE_OF_DOCUMENT, else TYPE_OF_DOCUMENT2) picks the property through
  ``data/document_types.yaml`` (passport → passportNumber, national id → idNumber); the issuing country
  goes to ``country``.
- LISTED_ON → ``createdAt`` (FtM's ``listingDate`` exists only on Sanction entities), the latest
  LAST_DAY_UPDATED → ``modifiedAt``, UN_LIST_TYPE → program, COMMENTS1 → notes.

The whole file is parsed with lxml before anything is returned (2 MB: well under a second).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from lxml import etree

from clearance.errors import ParseError
from clearance.lists.base import ParsedList
from clearance.lists.common import (
    add,
    add_country,
    add_identifier,
    children,
    date_values,
    index_children,
    iso_date,
    join,
    leaf_texts,
    local_name,
    parse_xml,
    text_of,
    warn_unknown_countries,
    xml_to_dict,
    year_range,
)
from clearance.model import Entity, entity_id

ROOT = "CONSOLIDATED_LIST"
NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
ALIAS_PROPS = {"good": "alias", "a.k.a.": "alias", "low": "weakAlias", "f.k.a.": "previousName"}
GENDERS = {"male": "male", "female": "female"}


def read(paths: Sequence[Path], list_name: str) -> ParsedList:
    entities: list[Entity] = []
    seen: dict[str, tuple[Path, int | None]] = {}
    warnings: list[str] = []
    published: date | None = None
    for path in paths:
        root = parse_xml(path)
        if local_name(root.tag) != ROOT:
            raise ParseError(
                f"root element is <{local_name(root.tag)}>, expected <{ROOT}>:"
                " this is not a UN consolidated list file",
                path=path,
                line=root.sourceline,
            )
        stated = _published(path, root)
        if stated is not None and (published is None or stated > published):
            published = stated
        unknown: set[str] = set()
        for group, tag, schema in (
            ("INDIVIDUALS", "INDIVIDUAL", "Person"),
            ("ENTITIES", "ENTITY", "Organization"),
        ):
            for container in children(root, group):
                for el in children(container, tag):
                    entity = _entity(path, el, tag, schema, list_name, unknown)
                    if entity.id in seen:
                        other_path, other_line = seen[entity.id]
                        raise ParseError(
                            f"REFERENCE_NUMBER {entity.id.split(':', 1)[1]!r} appears twice"
                            f" (first at {other_path} line {other_line})",
                            path=path,
                            line=el.sourceline,
                            field="REFERENCE_NUMBER",
                        )
                    seen[entity.id] = (path, el.sourceline)
                    entities.append(entity)
        warn_unknown_countries(warnings, path, unknown)
    return ParsedList(entities=entities, published=published, warnings=warnings)


def _published(path: Path, root: etree._Element) -> date | None:
    raw = root.get("dateGenerated")
    if raw is None or not raw.strip():
        return None
    value = iso_date(raw.strip()[:10])
    if value is None or len(value) != 10:
        raise ParseError(
            f"dateGenerated {raw!r} is not a date", path=path, line=root.sourceline, field="dateGenerated"
        )
    return date.fromisoformat(value)


def _entity(
    path: Path, el: etree._Element, tag: str, schema: str, list_name: str, unknown: set[str]
) -> Entity:
    kids = index_children(el)
    leaves = leaf_texts(el)
    ref = leaves.get("REFERENCE_NUMBER")
    if ref is None:
        raise ParseError(
            f"<{tag}> has no REFERENCE_NUMBER", path=path, line=el.sourceline, field="REFERENCE_NUMBER"
        )
    entity = Entity(id=entity_id(list_name, ref), schema=schema, datasets=[list_name], raw=xml_to_dict(el))
    parts = [leaves[n] for n in NAME_PARTS if n in leaves]
    if not parts:
        raise ParseError(f"<{tag}> {ref} has no name", path=path, line=el.sourceline, field="FIRST_NAME")
    add(entity, "name", " ".join(parts))
    if schema == "Person":
        add(entity, "firstName", parts[0])
        if len(parts) > 1:
            add(entity, "lastName", parts[-1])
            for middle in parts[1:-1]:
                add(entity, "middleName", middle)
    add(entity, "alias", leaves.get("NAME_ORIGINAL_SCRIPT"))
    for alias in kids.get(f"{tag}_ALIAS", ()):
        _alias(entity, leaf_texts(alias))

    add(entity, "topics", "sanction")
    add(entity, "program", leaves.get("UN_LIST_TYPE"))
    add(entity, "notes", leaves.get("COMMENTS1"))
    listed = leaves.get("LISTED_ON")
    if listed is not None:
        when = iso_date(listed[:10])
        if when is None:
            line = kids["LISTED_ON"][0].sourceline
            raise ParseError(f"LISTED_ON {listed!r} is not a date", path=path, line=line, field="LISTED_ON")
        add(entity, "createdAt", when)
    updated = [iso_date(text_of(v)) for u in kids.get("LAST_DAY_UPDATED", ()) for v in u]
    updated_dates = sorted(d for d in updated if d)
    if updated_dates:
        add(entity, "modifiedAt", updated_dates[-1])
    add(entity, "gender", GENDERS.get((leaves.get("GENDER") or "").lower()))
    for holder in kids.get("TITLE", ()):
        for value in holder:
            add(entity, "title", text_of(value))
    for holder in kids.get("DESIGNATION", ()):
        for value in holder:
            add(entity, "position", text_of(value))
    for holder in kids.get("NATIONALITY", ()):
        for value in holder:
            add_country(entity, "nationality", text_of(value), unknown)
    for addr in kids.get(f"{tag}_ADDRESS", ()):
        _address(entity, leaf_texts(addr), unknown)
    for dob in kids.get(f"{tag}_DATE_OF_BIRTH", ()):
        _birth_date(entity, leaf_texts(dob))
    for pob in kids.get(f"{tag}_PLACE_OF_BIRTH", ()):
        _birth_place(entity, leaf_texts(pob), unknown)
    for doc in kids.get(f"{tag}_DOCUMENT", ()):
        _document(entity, leaf_texts(doc), unknown)
    return entity


def _alias(entity: Entity, alias: dict[str, str]) -> None:
    name = alias.get("ALIAS_NAME")
    if name is None:
        return
    add(entity, ALIAS_PROPS.get(alias.get("QUALITY", "").lower(), "alias"), name)
    # Some aliases carry the birth details used under that name.
    for value in date_values(alias.get("DATE_OF_BIRTH")):
        add(entity, "birthDate", value)
    add(entity, "birthPlace", join([alias.get("CITY_OF_BIRTH"), alias.get("COUNTRY_OF_BIRTH")]))


def _address(entity: Entity, addr: dict[str, str], unknown: set[str]) -> None:
    country = addr.get("COUNTRY")
    parts = [addr.get(n) for n in ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE")]
    if any(parts):
        add(entity, "address", join([*parts, country]))
    add_country(entity, "country", country, unknown)


def _birth_date(entity: Entity, dob: dict[str, str]) -> None:
    values: list[str] = []
    if dob.get("TYPE_OF_DATE", "").upper() == "BETWEEN" or "FROM_YEAR" in dob:
        values = year_range(dob.get("FROM_YEAR"), dob.get("TO_YEAR"))
    values += date_values(dob.get("DATE")) or date_values(dob.get("YEAR"))
    for value in values:
        add(entity, "birthDate", value)


def _birth_place(entity: Entity, pob: dict[str, str], unknown: set[str]) -> None:
    country = pob.get("COUNTRY")
    add(entity, "birthPlace", join([pob.get(n) for n in ("STREET", "CITY", "STATE_PROVINCE")] + [country]))
    add_country(entity, "birthCountry", country, unknown)


def _document(entity: Entity, doc: dict[str, str], unknown: set[str]) -> None:
    number = doc.get("NUMBER")
    if number is None:
        return
    label = doc.get("TYPE_OF_DOCUMENT") or doc.get("TYPE_OF_DOCUMENT2")
    add_identifier(entity, label, number, unknown)
    add_country(entity, "country", doc.get("ISSUING_COUNTRY") or doc.get("COUNTRY_OF_ISSUE"), unknown)
