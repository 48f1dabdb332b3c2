"""The BIS Denied Persons List (``dpl.txt``): tab-separated, quoted, one header row.

Columns: Name, Street_Address, City, State, Country, Postal_Code, Effective_Date, Expiration_Date,
Standard_Order, Last_Update, Action, FR_Citation.

**Row key.** The file has no identifier, and one party appears on several rows (one per address or
order). Rows whose names are equal after :func:`~clearance.lists.common.normalise_key` (case, accents,
punctuation and spacing ignored) are one entity, ``bis-dpl:<first 12 hex digits of SHA-1 of that key>``:
stable across snapshots as long as BIS spells the name the same way, and distinct for distinct names.
The entity keeps every address, and each row's order (dates, action, Federal Register citation) as a
note; ``raw`` holds all its rows with their line numbers.

**Schema.** The list mixes people and companies without saying which. A name with a legal form (LTD,
INC, GMBH, S.L., ...) or a business word (CORPORATION, AIRLINES, TRADING, ...) from
``data/organisation_words.yaml`` is an Organization; every other name stays a LegalEntity (FtM's common
parent), never guessed a Person. (rigour's ``extract_org_types`` would do, but costs seconds to load.)

Effective dates: the earliest → ``createdAt``; the latest Last_Update → ``modifiedAt``. A date that does
not parse (the 2022-09-07 file has "0222-05-18") is a warning, not an error: the row's party still
matters more than its bookkeeping. The file states no publication date, so ``published`` is None.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from clearance.errors import ParseError
from clearance.lists.base import ParsedList
from clearance.lists.common import (
    DATA_DIR,
    Row,
    add,
    add_country,
    iso_date,
    join,
    normalise_key,
    read_table,
    warn_unknown_countries,
)
from clearance.model import Entity, entity_id

COLUMNS = (
    "Name",
    "Street_Address",
    "City",
    "State",
    "Country",
    "Postal_Code",
    "Effective_Date",
    "Expiration_Date",
    "Standard_Order",
    "Last_Update",
    "Action",
    "FR_Citation",
)
PROGRAM = "BIS-DPL"
TOPICS = ("sanction", "export.control")
DATE_COLUMNS = ("Effective_Date", "Expiration_Date", "Last_Update")


def read(paths: Sequence[Path], list_name: str) -> ParsedList:
    groups: dict[str, list[tuple[Path, Row]]] = {}
    warnings: list[str] = []
    for path in paths:
        _, rows = read_table(path, delimiter="\t", required=COLUMNS)
        for row in rows:
            name = row.cells["Name"]
            key = normalise_key(name)
            if not key:
                raise ParseError("the name is empty", path=path, line=row.line, field="Name")
            for column in DATE_COLUMNS:
                value = row.cells[column]
                if value and _full_date(value) is None:
                    # BIS files carry typos such as "0222-05-18"; an official file must still import.
                    warnings.append(
                        f"{path}, line {row.line}, field {column!r}: {value!r} is not a date; kept only in raw"
                    )
            groups.setdefault(key, []).append((path, row))
    unknown: set[str] = set()
    entities = [_entity(list_name, key, rows, unknown) for key, rows in groups.items()]
    if paths:
        warn_unknown_countries(warnings, paths[0], unknown)
    return ParsedList(entities=entities, published=None, warnings=warnings)


def row_key(name: str) -> str:
    """The native id of the party called ``name``: a short digest of its normalised name."""
    return _digest(normalise_key(name))


def _digest(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def _full_date(value: str) -> str | None:
    found = iso_date(value)
    return found if found is not None and len(found) == 10 else None


def _entity(list_name: str, key: str, rows: list[tuple[Path, Row]], unknown: set[str]) -> Entity:
    first = rows[0][1].cells["Name"]
    schema = "Organization" if any(is_organisation(r.cells["Name"]) for _, r in rows) else "LegalEntity"
    entity = Entity(
        id=entity_id(list_name, _digest(key)),
        schema=schema,
        datasets=[list_name],
        raw={"rows": [{"file": p.name, "line": r.line, **r.cells} for p, r in rows]},
    )
    add(entity, "name", first)
    for _, row in rows[1:]:
        if " ".join(row.cells["Name"].split()) != " ".join(first.split()):
            add(entity, "alias", row.cells["Name"])
    for topic in TOPICS:
        add(entity, "topics", topic)
    add(entity, "program", PROGRAM)
    effective: list[str] = []
    updated: list[str] = []
    for _, row in rows:
        c = row.cells
        add(
            entity,
            "address",
            join([c["Street_Address"], c["City"], c["State"], c["Postal_Code"], c["Country"]]),
        )
        add_country(entity, "country", c["Country"], unknown)
        start, end, last = (_full_date(c[k]) if c[k] else None for k in DATE_COLUMNS)
        if start:
            effective.append(start)
        if last:
            updated.append(last)
        order = [
            f"effective {start}" if start else None,
            f"expires {end}" if end else None,
            f"standard order {c['Standard_Order']}" if c["Standard_Order"] else None,
            c["Action"] or None,
            c["FR_Citation"] or None,
        ]
        add(entity, "notes", join(["Denial order", *order], "; "))
    if effective:
        add(entity, "createdAt", min(effective))
    if updated:
        add(entity, "modifiedAt", max(updated))
    return entity


@dataclass(frozen=True, slots=True)
class OrganisationMarkers:
    legal_forms: frozenset[str]
    words: frozenset[str]


@lru_cache(maxsize=1)
def organisation_markers() -> OrganisationMarkers:
    with (DATA_DIR / "organisation_words.yaml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return OrganisationMarkers(
        legal_forms=frozenset(str(w).casefold() for w in data.get("legal_forms") or []),
        words=frozenset(str(w).casefold() for w in data.get("words") or []),
    )


_WORD = re.compile(r"[^\W_]+")


def is_organisation(name: str) -> bool:
    """Whether ``name`` reads as an organisation's: a legal form or a business word in it."""
    words = _WORD.findall(name.casefold().replace(".", ""))
    if not words:
        return False
    markers = organisation_markers()
    for i, word in enumerate(words):
        if word in markers.words:
            return True
        if word in markers.legal_forms and (len(word) > 2 or i == len(words) - 1) and len(words) > 1:
            return True
    return False
