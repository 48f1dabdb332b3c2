"""Helpers the list readers share: XML and text loading with located errors, dates, countries, and
adding values only under properties the entity's FollowTheMoney schema defines.
"""

from __future__ import annotations

import calendar
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
import yaml
from lxml import etree

from clearance.errors import ParseError
from clearance.model import Entity

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

# --------------------------------------------------------------------------------------------------
# Loading files
# --------------------------------------------------------------------------------------------------


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or a ParseError when it cannot be read or holds nothing but whitespace."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot read the file: {exc.strerror or exc}", path=path) from exc
    if not data.strip():
        raise ParseError("the file is empty", path=path)
    return data


def decode_utf8(path: Path, data: bytes) -> str:
    """``data`` decoded as UTF-8 (a byte-order mark is dropped), or a ParseError naming the line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError(
            f"byte {data[exc.start]:#04x} at offset {exc.start} is not valid UTF-8;"
            " save the file as UTF-8 and import it again",
            path=path,
            line=line,
        ) from exc
    if not text.strip():
        raise ParseError("the file is empty", path=path)
    return text


def parse_xml(path: Path) -> etree._Element:
    """Parse ``path`` whole; syntax errors become ParseErrors naming the line lxml reports.

    Entities are not resolved and nothing is fetched from the network.
    """
    data = read_bytes(path)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True, load_dtd=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"not well-formed XML: {exc.msg}", path=path, line=exc.lineno) from exc
    except ValueError as exc:  # e.g. an encoding declaration lxml cannot honour
        raise ParseError(f"not readable as XML: {exc}", path=path) from exc
    if root is None:
        raise ParseError("no XML document in the file", path=path)
    strip_namespaces(root)
    return root


def strip_namespaces(root: etree._Element) -> None:
    """Drop namespaces from every tag in place, so readers use plain names whatever the publisher's
    namespace of the year (OFAC has used three)."""
    found: Any = root.xpath('//*[namespace-uri() != ""]')
    namespaced: list[etree._Element] = list(found)
    if not namespaced:
        return
    for el in namespaced:
        el.tag = etree.QName(el).localname
    etree.cleanup_namespaces(root)


def local_name(tag: Any) -> str:
    """An element's tag without its namespace (comments and processing instructions give "")."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def children(el: etree._Element, name: str) -> list[etree._Element]:
    """Direct children of ``el`` called ``name`` (namespaces are stripped by :func:`parse_xml`)."""
    found: list[etree._Element] = el.findall(name)
    return found


def child(el: etree._Element, name: str) -> etree._Element | None:
    return el.find(name)


def text_of(el: etree._Element | None) -> str | None:
    """The element's own text, whitespace collapsed, or None when empty."""
    if el is None or el.text is None:
        return None
    value = " ".join(el.text.split())
    return value or None


def child_text(el: etree._Element, name: str) -> str | None:
    return text_of(child(el, name))


def index_children(el: etree._Element) -> dict[str, list[etree._Element]]:
    """Direct children by tag, in document order (one pass; cheaper than repeated ``find``)."""
    out: dict[str, list[etree._Element]] = {}
    for c in el:
        tag = c.tag
        if isinstance(tag, str):
            found = out.get(tag)
            if found is None:
                out[tag] = [c]
            else:
                found.append(c)
    return out


def leaf_texts(el: etree._Element) -> dict[str, str]:
    """The text of each direct child (the first of a tag), for flat records; empty ones left out."""
    out: dict[str, str] = {}
    for c in el:
        tag = c.tag
        if isinstance(tag, str) and tag not in out:
            text = c.text
            if text:
                value = " ".join(text.split())
                if value:
                    out[tag] = value
    return out


def xml_to_dict(el: etree._Element) -> Any:
    """A plain-data copy of an XML element for :attr:`Entity.raw`.

    Leaves become their text (or None), attributes ``@name`` keys, repeated children lists.
    """
    kids = [c for c in el if isinstance(c.tag, str)]
    if not kids and not el.attrib:
        text = el.text
        return text.strip() or None if text else None
    out: dict[str, Any] = {f"@{local_name(k)}": str(v) for k, v in el.attrib.items()}
    if not kids:
        if el.text and el.text.strip():
            out["#text"] = el.text.strip()
        return out
    repeated: set[str] = set()
    for c in kids:
        key = c.tag
        value = xml_to_dict(c)
        if key not in out:
            out[key] = value
        elif key in repeated:
            out[key].append(value)
        else:
            out[key] = [out[key], value]
            repeated.add(key)
    return out


# --------------------------------------------------------------------------------------------------
# Delimited text
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One record of a delimited file: the line it starts on and its cells by column name."""

    line: int
    cells: dict[str, str]


def read_table(
    path: Path, *, delimiter: str, required: Sequence[str], known: Sequence[str] | None = None
) -> tuple[list[str], list[Row]]:
    """Read a delimited UTF-8 file with a header row, every record as a :class:`Row`.

    Column names are matched case-insensitively and trimmed (a BOM is dropped). A missing required
    column, a record with a different number of cells than the header, bad quoting or bad UTF-8 raise
    a ParseError naming the file, line and field. Blank lines are skipped.
    """
    text = decode_utf8(path, read_bytes(path))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:  # pragma: no cover - decode_utf8 rejects blank files
        raise ParseError("the file is empty", path=path) from None
    except csv.Error as exc:
        raise ParseError(f"the header row is not valid: {exc}", path=path, line=1) from exc
    columns = [c.strip().lstrip("\ufeff").strip() for c in header]
    lowered = [c.lower() for c in columns]
    for name in required:
        if name.lower() not in lowered:
            raise ParseError(
                f"required column {name!r} is missing (the header has: {', '.join(columns)})",
                path=path,
                line=1,
                field=name,
            )
    seen: set[str] = set()
    for name, low in zip(columns, lowered, strict=True):
        if low in seen and low:
            raise ParseError(f"column {name!r} appears twice in the header", path=path, line=1, field=name)
        seen.add(low)
    canonical = {c.lower(): c for c in (known or required)}
    names = [canonical.get(low, col) for col, low in zip(columns, lowered, strict=True)]
    rows: list[Row] = []
    line = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ParseError(f"the record cannot be read: {exc}", path=path, line=line) from exc
        if not record or all(not cell.strip() for cell in record):
            line = reader.line_num + 1
            continue
        if len(record) != len(names):
            raise ParseError(
                f"the record has {len(record)} fields, the header {len(names)};"
                " check for a missing or extra delimiter or an unbalanced quote",
                path=path,
                line=line,
            )
        rows.append(Row(line=line, cells={n: c.strip() for n, c in zip(names, record, strict=True)}))
        line = reader.line_num + 1
    return columns, rows


# --------------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------------

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_name) if name})
MONTHS["sept"] = 9

ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_ISO_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ].*|[+-]\d{2}:\d{2}|Z)?$")
_DMY_TEXT = re.compile(r"^(?:(\d{1,2})\s+)?([A-Za-z]{3,9})\.?,?\s+(\d{4})$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_CIRCA = re.compile(r"^(?:circa|approximately|approx\.?|ca\.?|about)\s+", re.IGNORECASE)
_RANGE = re.compile(r"^(.+?)\s+(?:to|-|–)\s+(.+)$", re.IGNORECASE)

#: Year ranges up to this span are expanded into every year (a DOB "1960 to 1963" is one of four years).
MAX_YEAR_SPAN = 10


def _ymd(year: int, month: int | None = None, day: int | None = None) -> str | None:
    if not 1000 <= year <= 2999:
        return None
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        date(year, month, day)
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def iso_date(text: str | None) -> str | None:
    """A date the way FollowTheMoney writes it (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``), or None.

    Reads ISO dates (a time or zone after the day is dropped), ``12 Jan 1958``, ``Jan 1958``,
    ``MM/DD/YYYY`` (the US lists' style) and ``circa 1958`` (the year).
    """
    if text is None:
        return None
    value = " ".join(text.split())
    if not value:
        return None
    value = _CIRCA.sub("", value)
    m = ISO_DATE.match(value)
    if m:
        year, month, day = m.groups()
        return _ymd(int(year), int(month) if month else None, int(day) if day else None)
    m = _ISO_PREFIX.match(value)
    if m:
        return iso_date(m.group(1))
    m = _DMY_TEXT.match(value)
    if m:
        day_s, month_s, year_s = m.groups()
        month = MONTHS.get(month_s.lower())
        if month is None:
            return None
        return _ymd(int(year_s), month, int(day_s) if day_s else None)
    m = _US.match(value)
    if m:
        month_s, day_s, year_s = m.groups()
        return _ymd(int(year_s), int(month_s), int(day_s))
    return None


def date_values(text: str | None) -> list[str]:
    """Every date ``text`` states: one for a date, each year of a short range ``1958 to 1960``."""
    if text is None or not text.strip():
        return []
    single = iso_date(text)
    if single is not None:
        return [single]
    m = _RANGE.match(" ".join(text.split()))
    if m:
        start, end = iso_date(m.group(1)), iso_date(m.group(2))
        if start and end:
            return year_range(start[:4], end[:4]) if len(start) == len(end) == 4 else [start, end]
    return []


def year_range(start: str | int | None, end: str | int | None) -> list[str]:
    """The years from ``start`` to ``end`` (both bounds only when the span is long or reversed)."""
    try:
        a, b = int(str(start)), int(str(end))
    except ValueError:
        return [str(v) for v in (start, end) if v]
    if a > b or b - a > MAX_YEAR_SPAN:
        return [y for y in (_ymd(a), _ymd(b)) if y]
    return [y for y in (_ymd(n) for n in range(a, b + 1)) if y]


def to_date(text: str | None) -> date | None:
    """A full calendar date from ``text`` (ISO or MM/DD/YYYY), or None."""
    value = iso_date(text)
    if value is None or len(value) != 10:
        return None
    return date.fromisoformat(value)


# --------------------------------------------------------------------------------------------------
# Countries
# --------------------------------------------------------------------------------------------------


_KEY_JUNK = re.compile(r"[^a-z0-9]+")


def _country_key(name: str, *, transliterate: bool = False) -> str | None:
    """A cheap lookup key: ASCII letters and digits, lower case, single spaces.

    Index entries are built from ASCII names only; a query is transliterated first (Türkiye).
    """
    if not name.isascii():
        if not transliterate:
            return None
        from anyascii import anyascii

        name = anyascii(name)
    return " ".join(_KEY_JUNK.sub(" ", name.casefold()).split()) or None


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """ASCII country names and codes -> FtM country code, built from rigour's territory data.

    rigour's own name index transliterates every name in every script and takes seconds to build;
    official lists name countries in English, which this index answers in milliseconds. Anything it
    does not know is unknown when written in ASCII (the index holds every ASCII name rigour has),
    and goes to :func:`rigour.territories.lookup_territory` otherwise.
    """
    out: dict[str, str] = {}
    try:
        from rigour._core import territories_jsonl
        from rigour.data import iter_jsonl_text
        from rigour.territories import get_territory

        weak: dict[str, str] = {}
        for data in iter_jsonl_text(territories_jsonl()):
            territory = get_territory(data["code"])
            if territory is None:
                continue
            code = territory.ftm_country or territory.code
            if not code:
                continue
            strong = [territory.code, territory.alpha3, *territory.other_codes]
            strong += [territory.name, territory.full_name, *data.get("names_strong", [])]
            for name in strong:
                key = _country_key(name) if name else None
                if key:
                    out.setdefault(key, str(code))
            for name in [*data.get("names_weak", []), *data.get("places", [])]:
                key = _country_key(name)
                if key:
                    weak.setdefault(key, str(code))
        for key, code in weak.items():
            out.setdefault(key, code)
    except (ImportError, AttributeError, KeyError, TypeError):  # pragma: no cover - rigour internals moved
        return {}
    return out


@lru_cache(maxsize=4096)
def country_code(value: str | None) -> str | None:
    """FollowTheMoney's lower-case country code for an ISO code or a country name, or None."""
    if value is None:
        return None
    value = " ".join(value.split())
    if not value:
        return None
    key = _country_key(value, transliterate=True)
    if key is not None:
        found = _country_names().get(key)
        if found is not None or value.isascii():
            return found
    from rigour.territories import lookup_territory

    territory = lookup_territory(value)
    if territory is None:
        return None
    code = territory.ftm_country or territory.code
    return str(code) if code else None


# --------------------------------------------------------------------------------------------------
# Schema-checked property access
# --------------------------------------------------------------------------------------------------


#: The schemata readers build; their property names and types are kept in data/ftm_schemata.json so
#: reading a list does not pay the second it takes to import followthemoney. tests/lists check the file
#: against the pinned followthemoney; regenerate it with ``python -m clearance.lists.common``.
TABLED_SCHEMATA = (
    "Thing",
    "LegalEntity",
    "Person",
    "Organization",
    "Company",
    "PublicBody",
    "Vessel",
    "Airplane",
    "Vehicle",
    "CryptoWallet",
    "Security",
)
SCHEMA_TABLE = DATA_DIR / "ftm_schemata.json"


def build_schema_table() -> dict[str, dict[str, str]]:
    """{schema: {property: type}} for :data:`TABLED_SCHEMATA`, from followthemoney itself."""
    from followthemoney import model

    out: dict[str, dict[str, str]] = {}
    for name in TABLED_SCHEMATA:
        schema = model.get(name)
        if schema is None:  # pragma: no cover - only if followthemoney drops a schema
            continue
        out[name] = {p: schema.properties[p].type.name for p in sorted(schema.properties)}
    return out


@lru_cache(maxsize=1)
def _schema_table() -> dict[str, dict[str, str]]:
    try:
        with SCHEMA_TABLE.open("rb") as fh:
            data: dict[str, dict[str, str]] = orjson.loads(fh.read())
        return data
    except (OSError, orjson.JSONDecodeError):  # pragma: no cover - fall back to followthemoney
        return {}


@lru_cache(maxsize=256)
def _schema_types(schema: str) -> dict[str, str]:
    tabled = _schema_table().get(schema)
    if tabled is not None:
        return tabled
    from followthemoney import model

    found = model.get(schema)
    if found is None:
        return {}
    return {p: found.properties[p].type.name for p in found.properties}


@lru_cache(maxsize=256)
def schema_properties(schema: str) -> frozenset[str]:
    return frozenset(_schema_types(schema))


def property_type(schema: str, prop: str) -> str | None:
    return _schema_types(schema).get(prop)


#: Where a value goes when the entity's schema lacks the property it belongs to.
FALLBACKS: dict[str, tuple[str, ...]] = {
    "passportNumber": ("idNumber",),
    "socialSecurityNumber": ("idNumber",),
    "taxNumber": ("idNumber",),
    "idNumber": ("registrationNumber",),
    "imoNumber": ("registrationNumber",),
    "nationality": ("country",),
    "citizenship": ("country",),
    "birthCountry": ("country",),
    "flag": ("country",),
    "jurisdiction": ("country",),
}


def add(entity: Entity, prop: str, value: str | None, *, label: str | None = None) -> str | None:
    """Add ``value`` to ``prop`` if the schema has it, else to its fallback, else to ``notes``.

    Returns the property used (None when the value was empty). ``label`` prefixes the value when it
    lands in ``notes`` so the note still says what it is.
    """
    if value is None:
        return None
    value = " ".join(value.split())
    if not value:
        return None
    props = schema_properties(entity.schema)
    for candidate in (prop, *FALLBACKS.get(prop, ())):
        if candidate in props:
            entity.add(candidate, value)
            return candidate
    if "notes" in props:
        entity.add("notes", f"{label or prop}: {value}")
        return "notes"
    return None


def add_country(entity: Entity, prop: str, value: str | None, unknown: set[str]) -> None:
    """Add the country code for ``value``; names it cannot resolve are collected in ``unknown``."""
    if value is None or not value.strip():
        return
    code = country_code(value)
    if code is None:
        unknown.add(" ".join(value.split()))
        return
    add(entity, prop, code)


def join(parts: Iterable[str | None], sep: str = ", ") -> str | None:
    cleaned = [" ".join(p.split()) for p in parts if p and p.strip()]
    return sep.join(cleaned) if cleaned else None


def normalise_key(text: str) -> str:
    """Case-, accent-, punctuation- and spacing-insensitive form of a name, for row keys."""
    value = unicodedata.normalize("NFKD", text).casefold()
    value = "".join(c for c in value if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", value).split())


# --------------------------------------------------------------------------------------------------
# Identifier types (data/document_types.yaml)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DocumentTypes:
    exact: Mapping[str, str]
    contains: tuple[tuple[str, str], ...]
    default: str

    def prop_for(self, label: str | None) -> str:
        """The FtM property an identifier of type ``label`` belongs to."""
        if not label:
            return self.default
        key = _doc_key(label)
        found = self.exact.get(key)
        if found is not None:
            return found
        for needle, prop in self.contains:
            if needle in key:
                return prop
        return self.default


def _doc_key(label: str) -> str:
    return " ".join(label.casefold().replace("\u2019", "'").split()).rstrip(":-. ").strip()


@lru_cache(maxsize=1)
def document_types() -> DocumentTypes:
    with (DATA_DIR / "document_types.yaml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    exact = {_doc_key(str(k)): str(v) for k, v in (data.get("exact") or {}).items()}
    contains = tuple((_doc_key(str(k)), str(v)) for k, v in (data.get("contains") or []))
    return DocumentTypes(exact=exact, contains=contains, default=str(data.get("default", "idNumber")))


def add_identifier(entity: Entity, label: str | None, number: str | None, unknown: set[str]) -> None:
    """Add an identifier (passport, tax number, IMO, website, ...) under the property its type names."""
    if number is None or not number.strip():
        return
    prop = document_types().prop_for(label)
    kind = property_type(entity.schema, prop)
    if kind == "date":
        for value in date_values(number):
            add(entity, prop, value)
        return
    if kind == "country":
        add_country(entity, prop, number, unknown)
        return
    if kind == "gender":
        add(entity, prop, number.strip().lower())
        return
    add(entity, prop, number, label=label)


def warn_unknown_countries(warnings: list[str], path: Path, unknown: set[str]) -> None:
    if unknown:
        names = ", ".join(sorted(unknown)[:20])
        more = f" (and {len(unknown) - 20} more)" if len(unknown) > 20 else ""
        warnings.append(f"{path}: country names not recognised, kept only in raw: {names}{more}")


if __name__ == "__main__":  # regenerate data/ftm_schemata.json after upgrading followthemoney
    SCHEMA_TABLE.write_bytes(orjson.dumps(build_schema_table(), option=orjson.OPT_INDENT_2) + b"\n")
    print(f"wrote {SCHEMA_TABLE}")
