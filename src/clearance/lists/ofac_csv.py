"""Read OFAC's legacy CSV file sets: the SDN list and the consolidated (non-SDN) list.

A set is four headerless, cp1252-encoded CSV files that share the ``ent_num`` key:

=================  ======================  ======================================================
SDN                consolidated            rows
=================  ======================  ======================================================
sdn.csv            cons_prim.csv           one a listed party: name, type, programs, vessel data,
                                           remarks
add.csv            cons_add.csv            addresses
alt.csv            cons_alt.csv            other names (aka, fka, nka)
sdn_comments.csv   cons_comments.csv       (optional) the rest of remarks cut short in the first file
=================  ======================  ======================================================

``-0-`` (with a trailing space) is a null; the files often end with a DOS end-of-file byte (0x1a).

What :func:`read` returns, for list ``L``:

* one entity per ``ent_num``, id ``L:<ent_num>``, in file order: Person, Organization, Vessel or
  Airplane (FollowTheMoney 4 has no "Aircraft" schema: its aircraft schema is ``Airplane``), with
  the remarks parsed into properties by :mod:`clearance.lists.ofac_remarks` and the source rows in
  ``raw``;
* after them, entities derived from remarks, ids ``L:<ent_num>-<kind>-<key>`` (a ``-`` in the native
  part tells them from listed parties):

  - ``Identification`` / ``Passport`` (``-id-``): each identity document or register number with its
    country and dates; the number is also on the party (passportNumber, idNumber, ...);
  - ``CryptoWallet`` (``-wallet-``): each "Digital Currency Address", held by the party;
  - ``UnknownLink`` (``-link-``): each "Linked To: NAME" whose NAME is the name or alias of exactly
    one other party of the same list (subject: the party, object: the named one, role "Linked To").
    Every "Linked To" is also kept as a note ``Linked To: NAME`` on the party, resolved or not.

Columns: the name is kept as written in ``name`` (an individual's "LAST, First" also fills lastName and
firstName); Program ("SDGT] [IRGC") gives one ``program`` per tag; Title becomes a Person's
``position``; alt.csv aka and nka rows become ``alias``, fka rows ``previousName`` (``weakAlias`` when the
type or alt remarks say "weak"); each add.csv row becomes one ``address`` "street, city, country" and the
country's code goes to ``country`` (so do nationality and citizenship from the remarks). Countries are
FollowTheMoney codes, looked up in ``data/ofac/countries.csv``. A vessel's owner (Vess_owner) becomes
``owner`` (an entity reference) when the name is that of one party of the list, and is always kept as
the note ``Vessel owner: NAME``. Values a schema has no property for are kept as labelled ``notes``.

``raw`` holds the rows as read, fields in the order of :data:`COLUMNS`, nulls still ``-0- ``:
``{"sdn": [...], "add": [[...], ...], "alt": [[...], ...], "comments": [[...], ...]}``.

Malformed input (wrong field count, bad quoting, undecodable or control bytes, a non-numeric or
duplicate ent_num, rows about an ent_num the first file lacks, an empty file) raises
:class:`~clearance.errors.ParseError` naming file, line and field; nothing partial is returned.
"""

from __future__ import annotations

import csv
import gc
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clearance.errors import ParseError
from clearance.lists.base import ParsedList
from clearance.lists.ofac_remarks import Remarks, allowed, country_code, parse_remarks, table
from clearance.model import Entity, entity_id

ENCODING = "cp1252"

PRIMARY, ADDRESS, ALIAS, COMMENTS = "sdn", "add", "alt", "comments"

#: file name -> (set, role)
FILES: dict[str, tuple[str, str]] = {
    "sdn.csv": ("sdn", PRIMARY),
    "add.csv": ("sdn", ADDRESS),
    "alt.csv": ("sdn", ALIAS),
    "sdn_comments.csv": ("sdn", COMMENTS),
    "cons_prim.csv": ("cons", PRIMARY),
    "cons_add.csv": ("cons", ADDRESS),
    "cons_alt.csv": ("cons", ALIAS),
    "cons_comments.csv": ("cons", COMMENTS),
}
REQUIRED = (PRIMARY, ADDRESS, ALIAS)

COLUMNS: dict[str, tuple[str, ...]] = {
    PRIMARY: (
        "ent_num",
        "SDN_Name",
        "SDN_Type",
        "Program",
        "Title",
        "Call_Sign",
        "Vess_type",
        "Tonnage",
        "GRT",
        "Vess_flag",
        "Vess_owner",
        "Remarks",
    ),
    ADDRESS: ("ent_num", "Add_num", "Address", "City/State/Province/Postal Code", "Country", "Add_remarks"),
    ALIAS: ("ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks"),
    COMMENTS: ("ent_num", "Remarks_Extension"),
}

SCHEMA_BY_TYPE = {"individual": "Person", "vessel": "Vessel", "aircraft": "Airplane", None: "Organization"}

#: alt_type (lower-case, dots and spaces removed) -> property
ALIAS_PROPS = {"aka": "alias", "nka": "alias", "fka": "previousName"}

#: vessel columns -> (property, label used when the schema lacks it)
VESSEL_COLUMNS = (
    (5, "callSign", "Call sign"),
    (6, "type", "Vessel type"),
    (7, "tonnage", "Tonnage"),
    (8, "grossRegisteredTonnage", "GRT"),
)

NULLS = frozenset({"-0-", "-0", ""})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PROGRAM_SPLIT = re.compile(r"\]\s*\[")
_SLUG = re.compile(r"[^0-9A-Za-z]+")


def _null(value: str) -> str | None:
    value = value.strip()
    return None if value in NULLS else value


def _values(row: list[str]) -> list[str | None]:
    """The row's fields stripped, nulls as None."""
    return [None if (s := f.strip()) in NULLS else s for f in row]


Row = tuple[int, list[str]]  # (line number, fields as read)


@dataclass(slots=True)
class _Record:
    ent_num: str
    line: int
    row: list[str]
    addresses: list[list[str]] = field(default_factory=list)
    aliases: list[list[str]] = field(default_factory=list)
    comments: list[list[str]] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# Files and rows
# --------------------------------------------------------------------------------------------------


def _classify(paths: Sequence[Path]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    sets: set[str] = set()
    for path in paths:
        path = Path(path)
        key = FILES.get(path.name.lower())
        if key is None:
            raise ParseError(
                "not a file of an OFAC legacy CSV set; expected sdn.csv, add.csv, alt.csv and"
                " sdn_comments.csv (or cons_prim.csv, cons_add.csv, cons_alt.csv, cons_comments.csv)",
                path=path,
            )
        set_name, role = key
        sets.add(set_name)
        if role in found:
            raise ParseError(
                f"given twice (also as {found[role]}); pass each file of the set once", path=path
            )
        found[role] = path
    if len(sets) > 1:
        raise ParseError(
            "the SDN files (sdn.csv, ...) and the consolidated files (cons_*.csv) are different lists;"
            " import them separately",
            path=paths[0] if paths else None,
        )
    if not paths:
        raise ParseError("no files given; pass sdn.csv, add.csv and alt.csv")
    set_name = sets.pop()
    for role in REQUIRED:
        if role not in found:
            name = next(n for n, (s, r) in FILES.items() if s == set_name and r == role)
            raise ParseError(
                f"{name} is missing from the set; pass all of its files (the comments file is optional)",
                path=next(iter(found.values())),
            )
    return found


def _rows(path: Path, role: str) -> list[Row]:
    """The file's rows with their line numbers; a ParseError for anything malformed."""
    columns = COLUMNS[role]
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot read the file: {exc.strerror or exc}", path=path) from exc
    try:
        text = data.decode(ENCODING)
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"byte {data[exc.start]:#04x} at offset {exc.start} is not {ENCODING} (Windows-1252) text;"
            " is this an OFAC legacy CSV file?",
            path=path,
            line=data.count(b"\n", 0, exc.start) + 1,
        ) from exc
    text = text.rstrip(" \t\r\n\x1a")  # the DOS end-of-file byte OFAC appends
    if not text:
        if role == COMMENTS:
            return []
        raise ParseError("the file is empty", path=path)
    bad = _CONTROL.search(text)
    if bad is not None:
        raise ParseError(
            f"control character {ord(bad.group()):#04x} at offset {bad.start()}; the file is damaged",
            path=path,
            line=text.count("\n", 0, bad.start()) + 1,
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out: list[Row] = []
    width = len(columns)
    last = 0  # the physical line the previous row ended on
    try:
        for row in reader:
            line = last + 1
            last = reader.line_num
            if len(row) != width:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # a blank line
                missing = len(row) < width
                raise ParseError(
                    f"expected {width} fields, found {len(row)}"
                    + ("; the row is cut short" if missing else ""),
                    path=path,
                    line=line,
                    field=columns[len(row)] if missing else f"#{width + 1} (extra)",
                )
            ent_num = row[0].strip()
            if not (ent_num.isascii() and ent_num.isdigit() and len(ent_num) <= 12):
                raise ParseError(
                    f"ent_num {row[0][:40]!r} is not a number", path=path, line=line, field="ent_num"
                )
            row[0] = ent_num if ent_num[0] != "0" else str(int(ent_num))
            out.append((line, row))
    except csv.Error as exc:
        raise ParseError(f"not valid CSV: {exc}", path=path, line=last + 1) from exc
    return out


# --------------------------------------------------------------------------------------------------
# Entities
# --------------------------------------------------------------------------------------------------


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split()).rstrip(".").strip()


def _put(entity: Entity, prop: str, value: str | None, label: str) -> None:
    """``value`` under ``prop`` if the schema has it (or its fallback), else as a labelled note."""
    if value is None:
        return
    target = allowed(entity.schema, prop)
    if target is not None:
        entity.add(target, value)
    else:
        entity.add("notes", f"{label}: {value}")


def _slug(text: str) -> str:
    return _SLUG.sub("", text)[:64] or "x"


class _Builder:
    def __init__(self, list_name: str, records: list[_Record], paths: dict[str, Path]) -> None:
        self.list_name = list_name
        self.records = records
        self.paths = paths
        self.derived: dict[str, Entity] = {}
        self.unresolved_links = 0
        self.ambiguous_links = 0
        self.unknown_countries: set[str] = set()
        # every listed name and strong alias -> the ent_nums that bear it
        self.names: dict[str, set[str]] = {}
        for rec in records:
            self._index(rec.row[1], rec.ent_num)
            for alt in rec.aliases:
                self._index(alt[3], rec.ent_num)

    def _index(self, name: str, ent_num: str) -> None:
        value = _null(name)
        if value:
            self.names.setdefault(_name_key(value), set()).add(ent_num)

    def resolve(self, name: str, own: str) -> str | None:
        """The ent_num of the one other party called ``name``, or None."""
        found = self.names.get(_name_key(name), set()) - {own}
        if len(found) == 1:
            return next(iter(found))
        if len(found) > 1:
            self.ambiguous_links += 1
        return None

    def id(self, ent_num: str) -> str:
        return entity_id(self.list_name, ent_num)

    def _derive(self, native: str, schema: str) -> Entity:
        eid = entity_id(self.list_name, native)
        found = self.derived.get(eid)
        if found is None:
            found = self.derived[eid] = Entity(id=eid, schema=schema, datasets=[self.list_name])
        return found

    def _country(self, entity: Entity, prop: str, name: str | None, label: str) -> None:
        if name is None:
            return
        code = country_code(name)
        if code is None:
            self.unknown_countries.add(name)
            entity.add("notes", f"{label}: {name}")
        else:
            _put(entity, prop, code, label)

    def build(self, rec: _Record) -> Entity:
        row = rec.row
        path = self.paths[PRIMARY]
        v = _values(row)
        name = v[1]
        if name is None:
            raise ParseError("the entry has no name", path=path, line=rec.line, field="SDN_Name")
        sdn_type = v[2].lower() if v[2] else None
        if sdn_type not in SCHEMA_BY_TYPE:
            raise ParseError(
                f"unknown SDN_Type {row[2].strip()!r}; expected individual, vessel, aircraft or -0-",
                path=path,
                line=rec.line,
                field="SDN_Type",
            )
        schema = SCHEMA_BY_TYPE[sdn_type]
        entity = Entity(id=self.id(rec.ent_num), schema=schema, datasets=[self.list_name])
        entity.add("name", name)
        if schema == "Person" and "," in name:
            last, _, first = name.partition(",")
            entity.add("lastName", last)
            entity.add("firstName", first)
        if v[3]:
            for tag in _PROGRAM_SPLIT.split(v[3].strip("[] ")):
                entity.add("program", tag.strip("[] "))
        entity.add("topics", "sanction")
        if v[4]:
            _put(entity, "position", v[4], "Title")
        if any(v[5:11]):  # vessel columns
            for index, prop, label in VESSEL_COLUMNS:
                _put(entity, prop, v[index], label)
            self._country(entity, "flag", v[9], "Vessel flag")
            owner = v[10]
            if owner:
                entity.add("notes", f"Vessel owner: {owner}")
                target = self.resolve(owner, rec.ent_num)
                if target is not None and allowed(schema, "owner"):
                    entity.add("owner", self.id(target))

        for alt in rec.aliases:
            a = _values(alt)
            alt_name = a[3]
            if alt_name is None:
                continue
            alt_type = (a[2] or "aka").lower().replace(".", "").replace(" ", "")
            remark = a[4]
            weak = "weak" in alt_type or (remark is not None and "weak" in remark.lower())
            prop = "weakAlias" if weak else ALIAS_PROPS.get(alt_type.replace("weak", ""), "alias")
            entity.add(prop, alt_name)
            if remark and remark.lower() not in ("weak", "weak aka", "weak a.k.a."):
                entity.add("notes", f"{alt_name}: {remark}")

        for add in rec.addresses:
            a = _values(add)
            address = ", ".join(" ".join(p.split()) for p in a[2:5] if p)
            if address:
                entity.add("address", address)  # every schema read here has address and country
            country = a[4]
            if country:
                code = country_code(country)
                if code is None:
                    self.unknown_countries.add(country)
                else:
                    entity.add("country", code)
            remark = a[5]
            if remark:
                entity.add("notes", f"Address {address}: {remark}" if address else f"Address: {remark}")

        remarks_text = (row[11] if v[11] is not None else "") + "".join(c[1] for c in rec.comments)
        self._remarks(entity, rec.ent_num, parse_remarks(remarks_text))

        # the rows as read, fields in the order of COLUMNS (nulls still "-0- ")
        entity.raw = {
            PRIMARY: row,
            ADDRESS: rec.addresses,
            ALIAS: rec.aliases,
            COMMENTS: rec.comments,
        }
        return entity

    def _remarks(self, entity: Entity, ent_num: str, remarks: Remarks) -> None:
        schema = entity.schema
        props = table().schemata.get(schema, frozenset())
        programs = entity.get("program")
        for fact in remarks.properties:
            target = fact.prop if fact.prop in props else allowed(schema, fact.prop)
            if target is None:
                entity.add("notes", fact.text)
                continue
            entity.add(target, fact.value)
            if target in ("nationality", "citizenship"):
                entity.add("country", fact.value)
        for ident in remarks.identifiers:
            target = allowed(schema, ident.prop)
            if target is not None:
                entity.add(target, ident.number)
            else:
                entity.add("notes", ident.text)
            kind = "Passport" if ident.passport and schema == "Person" else "Identification"
            key = _slug(ident.number) + (f"-{ident.country}" if ident.country else "")
            doc = self._derive(f"{ent_num}-id-{key}", kind)
            doc.add("holder", entity.id)
            doc.add("number", ident.number)
            doc.add("type", ident.label)
            doc.add("country", ident.country)
            doc.add("startDate", ident.issued)
            doc.add("endDate", ident.expires)
        for wallet in remarks.wallets:
            cw = self._derive(f"{ent_num}-wallet-{_slug(wallet.address)}", "CryptoWallet")
            cw.add("publicKey", wallet.address)
            cw.add("currency", wallet.currency)
            cw.add("holder", entity.id)
            cw.add("topics", "sanction")
            for program in programs:
                cw.add("program", program)
        for name in remarks.links:
            entity.add("notes", f"Linked To: {name}")
            target = self.resolve(name, ent_num)
            if target is None:
                self.unresolved_links += 1
                continue
            link = self._derive(f"{ent_num}-link-{target}", "UnknownLink")
            link.add("subject", entity.id)
            link.add("object", self.id(target))
            link.add("role", "Linked To")
        for note in remarks.notes:
            entity.add("notes", note)


# --------------------------------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------------------------------


def read(paths: Sequence[Path], list_name: str) -> ParsedList:
    """Read one OFAC legacy CSV set (SDN or consolidated) whole; see the module docstring.

    The cyclic garbage collector is paused while the entities are built: they are tens of thousands
    of small acyclic objects, and collections triggered by their allocation would otherwise re-scan
    every object built so far (it doubles the run time on the full SDN list).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _read(paths, list_name)
    finally:
        if was_enabled:
            gc.enable()


def _read(paths: Sequence[Path], list_name: str) -> ParsedList:
    files = _classify(paths)
    records: dict[str, _Record] = {}
    primary = files[PRIMARY]
    for line, row in _rows(primary, PRIMARY):
        if row[0] in records:
            raise ParseError(
                f"ent_num {row[0]} is listed twice (first on line {records[row[0]].line})",
                path=primary,
                line=line,
                field="ent_num",
            )
        records[row[0]] = _Record(row[0], line, row)
    for role, attr, key_column in (
        (ADDRESS, "addresses", 1),
        (ALIAS, "aliases", 1),
        (COMMENTS, "comments", None),
    ):
        path = files.get(role)
        if path is None:
            continue
        seen: dict[str, int] = {}
        for line, row in _rows(path, role):
            rec = records.get(row[0])
            if rec is None:
                raise ParseError(
                    f"ent_num {row[0]} has no entry in {primary.name}",
                    path=path,
                    line=line,
                    field="ent_num",
                )
            if key_column is not None:
                key = row[key_column].strip()
                column = COLUMNS[role][key_column]
                if not key.isdigit():
                    raise ParseError(
                        f"{column} {key[:40]!r} is not a number", path=path, line=line, field=column
                    )
                if key in seen:
                    raise ParseError(
                        f"{column} {key} is used twice (first on line {seen[key]})",
                        path=path,
                        line=line,
                        field=column,
                    )
                seen[key] = line
            getattr(rec, attr).append(row)

    builder = _Builder(list_name, list(records.values()), files)
    entities = [builder.build(rec) for rec in records.values()]
    entities.extend(builder.derived.values())
    warnings: list[str] = []
    if builder.unresolved_links:
        warnings.append(
            f"{builder.unresolved_links} 'Linked To' names are not the name of exactly one entry of the"
            f" list ({builder.ambiguous_links} of them name several); they are kept as notes only"
        )
    if builder.unknown_countries:
        names = sorted(builder.unknown_countries)
        warnings.append(
            "country names not recognised (kept in the address and notes): " + ", ".join(names[:20])
        )
    return ParsedList(entities=entities, published=None, warnings=warnings)
