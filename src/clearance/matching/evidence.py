"""Secondary evidence normalised for comparison: birth dates, countries, identifiers.

Used on both sides (listed entities when the index is built, queries when they are screened), so the
two always agree on what "the same country" or "the same passport number" means.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: Properties holding an identifier that, matched exactly, identifies the party.
IDENTIFIER_PROPERTIES = (
    "idNumber",
    "passportNumber",
    "registrationNumber",
    "imoNumber",
    "taxNumber",
    "innCode",
    "ogrnCode",
    "vatCode",
    "leiCode",
    "swiftBic",
    "mmsi",
    "publicKey",
    "accountNumber",
    "serialNumber",
    "registrationNumber",
    "icaoCode",
)
#: Properties holding a country the party is tied to.
COUNTRY_PROPERTIES = ("country", "nationality", "citizenship", "jurisdiction", "birthCountry", "flag")

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


def normalise_identifier(value: str) -> str | None:
    """Upper-case alphanumerics only ("AB 123-456" -> "AB123456"); ``None`` when too short to identify.

    A leading "IMO" is dropped so "IMO 9187629" meets "9187629".
    """
    out = _NON_ALNUM.sub("", value).upper()
    if out.startswith("IMO") and out[3:].isdigit():
        out = out[3:]
    if len(out) < 5 or not any(c.isdigit() for c in out):
        return None
    return out


def normalise_date(value: str) -> str | None:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` prefix of an ISO-ish date; ``None`` when it has no year."""
    m = _DATE.match(value.strip())
    if not m:
        return None
    return "-".join(p for p in m.groups() if p)


@lru_cache(maxsize=4096)
def normalise_country(value: str) -> str | None:
    """ISO-like territory code for a code or a country name ("Iran" and "IR" -> "ir"); ``None`` if unknown."""
    text = value.strip()
    if not text:
        return None
    try:
        from rigour.territories import lookup_territory

        territory = lookup_territory(text)
    except (ValueError, KeyError, TypeError):
        territory = None
    if territory is not None:
        return str(territory.code)
    if len(text) in (2, 3) and text.isalpha():
        return text.lower()
    return None


def dates_agree(query: str, listed: str) -> bool | None:
    """``True`` when two normalised dates agree to the precision both state, ``False`` when they differ."""
    n = min(len(query), len(listed))
    return query[:n] == listed[:n]
