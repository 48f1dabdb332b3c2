"""A firm's own list (and the lists tests and evaluations bring) as a CSV file with a header row.

Columns (names case-insensitive, any order):

- ``id`` (required): the native id; the entity id is ``<list>:<id>`` (``custom-mybank:42``).
- ``name`` (required): the primary name.
- ``schema`` (required): a FollowTheMoney schema that names a party (Person, Organization, Company,
  LegalEntity, Vessel, Airplane, ...), case-insensitive.
- ``aliases``: further names, separated by ``;``.
- ``birth_date``: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (Person only).
- ``country``: ISO codes or country names, separated by ``;``; stored as FtM's lower-case codes (a name
  Clearance does not know is a warning and stays in ``raw``).
- ``id_numbers``: identifiers, separated by ``;`` (idNumber; registrationNumber for a Vessel/Airplane).
- ``program``, ``notes``: free text.

UTF-8, a byte-order mark tolerated, blank lines skipped; other columns are kept in ``raw`` only (with a
warning). Every problem is a ParseError naming file, line and column, and nothing is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from clearance.errors import ParseError
from clearance.lists.base import ParsedList
from clearance.lists.common import ISO_DATE, add, country_code, iso_date, read_table
from clearance.model import SCREENABLE_SCHEMATA, Entity, entity_id

REQUIRED = ("id", "name", "schema")
OPTIONAL = ("aliases", "birth_date", "country", "id_numbers", "program", "notes")
COLUMNS = REQUIRED + OPTIONAL
SEPARATOR = ";"


@lru_cache(maxsize=1)
def _schemata() -> dict[str, str]:
    return {s.lower(): s for s in SCREENABLE_SCHEMATA}


def read(paths: Sequence[Path], list_name: str) -> ParsedList:
    entities: list[Entity] = []
    seen: dict[str, tuple[Path, int]] = {}
    warnings: list[str] = []
    for path in paths:
        columns, rows = read_table(path, delimiter=",", required=REQUIRED, known=COLUMNS)
        extra = [c for c in columns if c.lower() not in COLUMNS]
        if extra:
            warnings.append(f"{path}: columns {', '.join(extra)} are not read (kept in raw)")
        for row in rows:
            cells = row.cells
            native = cells["id"]
            if not native:
                raise ParseError("the id is empty", path=path, line=row.line, field="id")
            if native in seen:
                first_path, first_line = seen[native]
                raise ParseError(
                    f"id {native!r} is used twice (first at {first_path} line {first_line});"
                    " ids must be unique within a list",
                    path=path,
                    line=row.line,
                    field="id",
                )
            seen[native] = (path, row.line)
            entities.append(_entity(path, row.line, cells, list_name, warnings))
    return ParsedList(entities=entities, published=None, warnings=warnings)


def _entity(path: Path, line: int, cells: dict[str, str], list_name: str, warnings: list[str]) -> Entity:
    name = cells["name"]
    if not name:
        raise ParseError("the name is empty", path=path, line=line, field="name")
    schema = _schemata().get(cells["schema"].lower())
    if schema is None:
        raise ParseError(
            f"schema {cells['schema']!r} is not one Clearance screens against;"
            f" use one of {', '.join(sorted(SCREENABLE_SCHEMATA))}",
            path=path,
            line=line,
            field="schema",
        )
    entity = Entity(
        id=entity_id(list_name, cells["id"]),
        schema=schema,
        datasets=[list_name],
        raw={"line": line, **cells},
    )
    add(entity, "name", name)
    for alias in _split(cells.get("aliases")):
        add(entity, "alias", alias)
    birth = cells.get("birth_date") or ""
    if birth:
        if schema != "Person":
            raise ParseError(
                f"birth_date applies to a Person, not a {schema}", path=path, line=line, field="birth_date"
            )
        value = iso_date(birth) if ISO_DATE.match(birth) else None
        if value is None:
            raise ParseError(
                f"{birth!r} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD",
                path=path,
                line=line,
                field="birth_date",
            )
        add(entity, "birthDate", value)
    for country in _split(cells.get("country")):
        code = country_code(country)
        if code is None:
            warnings.append(
                f"{path}, line {line}, field 'country': {country!r} is not a known country; kept in raw"
            )
            continue
        add(entity, "country", code)
    for number in _split(cells.get("id_numbers")):
        add(entity, "idNumber", number)
    add(entity, "program", cells.get("program"))
    add(entity, "notes", cells.get("notes"))
    return entity


def _split(value: str | None) -> list[str]:
    if not value:
        return []
    return [part.strip() for part in value.split(SEPARATOR) if part.strip()]
