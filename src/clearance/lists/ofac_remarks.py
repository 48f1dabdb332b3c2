"""Read the "Remarks" field of the OFAC legacy CSV files into FollowTheMoney properties.

OFAC packs everything the legacy files have no column for into one free-text field, items separated
by ";": ``DOB 12 Jan 1960; alt. DOB 1961; POB Damascus, Syria; nationality Syria; Passport 123 (Syria)
issued 01 Feb 2005; a.k.a. 'ABU X'; Linked To: SOME GROUP.``

What each item means is data (``clearance/data/ofac/remarks.yaml``: a label, a kind and a property);
this module only applies the table. :func:`parse_remarks` is a pure function of its text: it never
raises on any input, and keeps every item it cannot structure in :attr:`Remarks.notes`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "ofac"

KINDS = frozenset(
    {"date", "text", "lower", "country", "identifier", "imo", "quoted", "link", "wallet", "note"}
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the remarks table: items labelled ``label`` are read as ``kind`` into ``prop``."""

    label: str
    kind: str
    prop: str | None = None
    passport: bool = False


@dataclass(slots=True)
class Fact:
    """A property value a remark item states, with the item as written (kept when the value cannot
    go under ``prop`` on the entity's schema)."""

    prop: str
    value: str
    text: str


@dataclass(slots=True)
class Identifier:
    """An identity document or register number stated in the remarks."""

    label: str  # the type as OFAC writes it: "Passport", "Cedula No.", "Registration Number"
    prop: str  # the FtM property of the holder the number belongs in
    number: str
    country: str | None = None  # FtM country code
    issued: str | None = None  # FtM date
    expires: str | None = None
    passport: bool = False
    text: str = ""  # the item as written


@dataclass(frozen=True, slots=True)
class Wallet:
    currency: str  # OFAC's code: XBT, ETH, XMR, ...
    address: str


@dataclass(slots=True)
class Remarks:
    """What a remarks field says, structured.

    ``properties`` are the property values in the order stated; ``links`` the names after
    "Linked To:"; ``notes`` every item kept as written (known sanctions information and items the
    table does not know).
    """

    properties: list[Fact] = field(default_factory=list)
    identifiers: list[Identifier] = field(default_factory=list)
    wallets: list[Wallet] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Table:
    rules: dict[str, Rule]  # casefolded label -> rule
    patterns: dict[str, re.Pattern[str]]  # casefolded first word of a label -> its labels' pattern
    fallbacks: dict[str, tuple[str, ...]]
    schemata: dict[str, frozenset[str]]
    countries: dict[str, str]  # casefolded name -> FtM country code


@lru_cache(maxsize=1)
def table() -> Table:
    """The remarks table and the country names, loaded once from ``data/ofac``."""
    with (DATA_DIR / "remarks.yaml").open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    rules: dict[str, Rule] = {}
    for row in data["rules"]:
        rule = Rule(
            label=str(row["label"]),
            kind=str(row["kind"]),
            prop=str(row["prop"]) if row.get("prop") else None,
            passport=bool(row.get("passport", False)),
        )
        if rule.kind not in KINDS:
            raise ValueError(f"remarks.yaml: unknown kind {rule.kind!r} for label {rule.label!r}")
        rules[rule.label.casefold()] = rule
    # One small pattern per first word of the labels: an item is matched only against the labels
    # that start with its own first word (a dict lookup instead of trying every label in turn).
    groups: dict[str, list[str]] = {}
    for rule in rules.values():
        groups.setdefault(_first_word(rule.label), []).append(rule.label)
    patterns = {word: _label_pattern(labels) for word, labels in groups.items()}
    fallbacks = {str(k): tuple(str(p) for p in v or ()) for k, v in (data.get("fallbacks") or {}).items()}
    schemata = {str(k): frozenset(str(p) for p in v) for k, v in data["schemata"].items()}
    countries: dict[str, str] = {}
    with (DATA_DIR / "countries.csv").open(encoding="utf-8", newline="") as fh:
        for name, code in csv.reader(fh):
            if name != "name":
                countries[name.casefold()] = code
    return Table(rules, patterns, fallbacks, schemata, countries)


def _first_word(text: str) -> str:
    words = text.split(None, 1)
    if not words:
        return ""
    word = words[0]
    if ":" in word or "#" in word:
        word = word.replace("#", ":").partition(":")[0]
    return word.casefold()


def _label_pattern(labels: list[str]) -> re.Pattern[str]:
    """The label (longest first), then ":", "#", " - ", spaces or the end of the item, then the value."""
    alternation = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    return re.compile(
        rf"^(?P<label>{alternation})(?:\s*:\s*|\s+-\s+|\s+|(?<=[#.])|$)(?P<rest>.*)$",
        re.IGNORECASE | re.DOTALL,
    )


def match_label(item: str) -> tuple[Rule, str] | None:
    """The rule whose label starts ``item`` (after an optional "alt. ") and the rest of the item."""
    tbl = table()
    body = item[4:].lstrip() if item[:4].casefold() == "alt." else item
    pattern = tbl.patterns.get(_first_word(body))
    if pattern is None:
        return None
    m = pattern.match(body)
    if m is None:
        return None
    return tbl.rules[m.group("label").casefold()], m.group("rest")


# --------------------------------------------------------------------------------------------------
# Countries
# --------------------------------------------------------------------------------------------------


def country_code(name: str | None) -> str | None:
    """FollowTheMoney's country code for a country name as OFAC writes it ("Korea, North" -> "kp").

    The names are data (``data/ofac/countries.csv``: OFAC's spellings plus rigour's territory names);
    ``None`` for a name the table lacks or marks as no country ("None Identified").
    """
    if not name:
        return None
    countries = table().countries
    found = countries.get(name.casefold())
    if found is None:
        found = countries.get(" ".join(name.split()).strip(" .").casefold())
    return found or None


# --------------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------------

MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_DATE = re.compile(r"^(?:(\d{1,2})\s+)?(?:([A-Za-z]{3})[a-z]*\.?\s+)?(\d{4})$")
_CIRCA = re.compile(r"^(?:circa|approximately|approx\.?|about)\s+", re.IGNORECASE)
_RANGE = re.compile(r"^(.+?)\s*(?:\bto\b|-|–)\s*(.+)$", re.IGNORECASE)

#: year ranges up to this span are read as "one of these years" and expanded into each year
MAX_YEAR_SPAN = 10


def _one_date(text: str) -> tuple[str, int, int | None, int | None] | None:
    """``(ftm form, year, month, day)`` for "12 Jan 1960", "Jan 1960" or "1960"."""
    m = _DATE.match(text.strip())
    if m is None:
        return None
    day_s, month_s, year_s = m.groups()
    year = int(year_s)
    if not 1000 <= year <= 2999:
        return None
    if month_s is None:
        return None if day_s else (f"{year:04d}", year, None, None)
    month = MONTHS.get(month_s.casefold())
    if month is None:
        return None
    if day_s is None:
        return f"{year:04d}-{month:02d}", year, month, None
    day = int(day_s)
    try:
        date(year, month, day)
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}", year, month, day


def parse_dates(text: str) -> list[str]:
    """Every date a DOB-style value states, in FollowTheMoney form; ``[]`` when it states none.

    "12 Jan 1960" -> ["1960-01-12"]; "circa 1960" -> ["1960"]; "1960 to 1962" -> each year;
    "01 Jan 1960 to 31 Dec 1962" (whole years) -> each year; other ranges -> both ends.
    """
    value = " ".join(text.split()).strip(" .")
    value = _CIRCA.sub("", value)
    single = _one_date(value)
    if single is not None:
        return [single[0]]
    m = _RANGE.match(value)
    if m is None:
        return []
    start, end = _one_date(_CIRCA.sub("", m.group(1))), _one_date(_CIRCA.sub("", m.group(2)))
    if start is None or end is None:
        return []
    whole_years = (
        start[2] in (None, 1) and start[3] in (None, 1) and end[2] in (None, 12) and (end[3] in (None, 31))
    )
    if whole_years and start[1] <= end[1] and end[1] - start[1] <= MAX_YEAR_SPAN:
        return [f"{y:04d}" for y in range(start[1], end[1] + 1)]
    return [start[0], end[0]] if start[0] != end[0] else [start[0]]


# --------------------------------------------------------------------------------------------------
# Items
# --------------------------------------------------------------------------------------------------

# a trailing full stop that ends an abbreviation ("S.A.", "Co.", "Ltd.") is part of the name; tested
# on the last word only (after a space, comma, parenthesis or slash)
_ABBREVIATION = re.compile(
    r"(?:[A-Za-z]\.){2,}|(?:Inc|Ltd|Co|Corp|Jr|Sr|Bhd|Pvt|Cia|Ltda|Est|Int|No)\.", re.IGNORECASE
)
_QUOTED = re.compile(r"^'(.*)'$", re.DOTALL)
_ISSUED = re.compile(
    r"[\s,]*\bissued(?:\s+(?:on|in))?\s+((?:\d{1,2}\s+)?(?:[A-Za-z]{3}\s+)?\d{4})\b", re.IGNORECASE
)
_EXPIRES = re.compile(
    r"[\s,]*\bexpires(?:\s+(?:on|in))?\s+((?:\d{1,2}\s+)?(?:[A-Za-z]{3}\s+)?\d{4})\b", re.IGNORECASE
)
_TRAILING_PARENS = re.compile(r"\s*\(([^()]*)\)\s*$")
_IMO = re.compile(r"^(?:IMO\s*)?(\d{7})$", re.IGNORECASE)
_WALLET = re.compile(r"^([A-Za-z0-9]{2,10})\s+(\S+)$")


def strip_full_stop(text: str) -> str:
    """``text`` without the full stop OFAC ends a remark with, unless it closes an abbreviation."""
    text = text.strip()
    if text[-1:] == ".":
        cut = max(text.rfind(" "), text.rfind(","), text.rfind("("), text.rfind("/"))
        if not _ABBREVIATION.fullmatch(text, cut + 1):
            return text[:-1].rstrip()
    return text


def split_items(text: str) -> list[str]:
    """The ";"-separated items of a remarks field, stripped, empty ones dropped."""
    return [item for item in map(str.strip, text.split(";")) if item]


def _identifier(rule: Rule, rest: str, item: str) -> Identifier | None:
    value = rest.strip().rstrip(".").strip()
    issued = expires = None
    lowered = value.lower()
    m = _EXPIRES.search(value) if "expires" in lowered else None
    if m is not None:
        dates = parse_dates(m.group(1))
        if dates:
            expires = dates[0]
            value = (value[: m.start()] + value[m.end() :]).strip()
    m = _ISSUED.search(value) if "issued" in lowered else None
    if m is not None:
        dates = parse_dates(m.group(1))
        if dates:
            issued = dates[0]
            value = (value[: m.start()] + value[m.end() :]).strip()
    country = None
    m = _TRAILING_PARENS.search(value)
    if m is not None:
        code = country_code(m.group(1))
        if code is not None:
            country = code
            value = value[: m.start()].strip()
    if country is None and "," in value:  # "1372584, Kenya"
        head, _, tail = value.rpartition(",")
        code = country_code(tail)
        if code is not None and head.strip():
            country, value = code, head
    value = value.strip(" ,")
    if not value:
        return None
    assert rule.prop is not None
    return Identifier(
        label=rule.label,
        prop=rule.prop,
        number=value,
        country=country,
        issued=issued,
        expires=expires,
        passport=rule.passport,
        text=item,
    )


def parse_item(item: str, out: Remarks) -> None:
    """Read one remark item into ``out`` (an item the table cannot read becomes a note)."""
    one = _parse_one(item)
    if one.properties:
        out.properties.extend(one.properties)
    if one.identifiers:
        out.identifiers.extend(one.identifiers)
    if one.wallets:
        out.wallets.extend(one.wallets)
    if one.links:
        out.links.extend(one.links)
    if one.notes:
        out.notes.extend(one.notes)


@lru_cache(maxsize=1 << 16)
def _parse_one(item: str) -> Remarks:
    """One item parsed. Cached: items repeat a lot across a list ("Gender Male", "Linked To: X",
    sanctions information), and the result is only ever read, never changed."""
    out = Remarks()
    _read_item(item, out)
    return out


def _read_item(item: str, out: Remarks) -> None:
    text = strip_full_stop(item)
    found = match_label(text)
    if found is None:
        out.notes.append(text)
        return
    rule, raw_rest = found
    rest = raw_rest.strip()
    kind = rule.kind
    prop = rule.prop or ""
    if kind == "note" or not rest:
        out.notes.append(text)
    elif kind == "date":
        dates = parse_dates(rest)
        if not dates:
            out.notes.append(text)
        for value in dates:
            out.properties.append(Fact(prop, value, text))
    elif kind == "text":
        out.properties.append(Fact(prop, rest, text))
    elif kind == "lower":
        out.properties.append(Fact(prop, rest.lower(), text))
    elif kind == "country":
        code = country_code(rest)
        if code is None:
            out.notes.append(text)
        else:
            out.properties.append(Fact(prop, code, text))
    elif kind == "quoted":
        q = _QUOTED.match(rest)
        out.properties.append(Fact(prop, q.group(1).strip() if q else rest.strip("'"), text))
    elif kind == "imo":
        imo = _IMO.match(rest.strip())
        if imo is None:
            out.notes.append(text)
        else:
            out.properties.append(Fact(prop, f"IMO{imo.group(1)}", text))
    elif kind == "identifier":
        ident = _identifier(rule, raw_rest, text)
        if ident is None:
            out.notes.append(text)
        else:
            out.identifiers.append(ident)
    elif kind == "link":
        out.links.append(rest)
    elif kind == "wallet":
        w = _WALLET.match(rest.lstrip("- ").strip())
        if w is None:
            out.notes.append(text)
        else:
            out.wallets.append(Wallet(currency=w.group(1).upper(), address=w.group(2)))
    else:  # pragma: no cover - KINDS is checked when the table loads
        out.notes.append(text)


def parse_remarks(text: str | None) -> Remarks:
    """Structure a whole remarks field. Never raises; an empty or null field gives empty Remarks."""
    out = Remarks()
    if not text:
        return out
    for item in split_items(text):
        parse_item(item, out)
    return out


def allowed(schema: str, prop: str) -> str | None:
    """The property ``prop`` lands in on ``schema`` (itself or a fallback), or None for notes."""
    tbl = table()
    props = tbl.schemata.get(schema, frozenset())
    if prop in props:
        return prop
    for candidate in tbl.fallbacks.get(prop, ()):
        if candidate in props:
            return candidate
    return None
