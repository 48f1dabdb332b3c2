"""Identifiers in payments: BIC, IBAN, LEI and IMO numbers, validated and compacted for exact matching.

Validation uses python-stdnum (installed with followthemoney). IBANs are checked with the ISO 13616
MOD 97-10 checksum for every country, and against the national format when stdnum knows the country:
stdnum's registry lacks some countries that do issue IBANs (Iran among them), and a payment to an
Iranian IBAN must be screened, not rejected as malformed.
"""

from __future__ import annotations

import re
from functools import lru_cache

from stdnum import bic as _bic
from stdnum import iban as _iban
from stdnum import imo as _imo
from stdnum import lei as _lei
from stdnum.exceptions import InvalidComponent, ValidationError

_BIC_RE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_IBAN_RE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_SPACES = re.compile(r"[\s\-.]")


def compact(value: str) -> str:
    """Upper case, without spaces, dashes or dots."""
    return _SPACES.sub("", value).upper()


#: Validation results kept (pure functions of the text; the same agents' BICs recur in every message).
VALIDATION_CACHE_SIZE = 4096


@lru_cache(maxsize=VALIDATION_CACHE_SIZE)
def bic_problem(value: str) -> str | None:
    """Why ``value`` is not a BIC (ISO 9362: 4 letters bank, 2 letters country, 2 location, 3 branch)."""
    code = compact(value)
    if not _BIC_RE.match(code):
        return f"BIC {value!r} is not 8 or 11 characters of the form BBBBCCLL[bbb]"
    try:
        _bic.validate(code)
    except ValidationError as exc:
        return f"BIC {value!r}: {exc}"
    return None


@lru_cache(maxsize=VALIDATION_CACHE_SIZE)
def iban_problem(value: str) -> str | None:
    """Why ``value`` is not an IBAN (shape, MOD 97-10 checksum, national format where known)."""
    code = compact(value)
    if not _IBAN_RE.match(code):
        return f"IBAN {value!r} is not 2 letters, 2 check digits and 11 to 30 letters or digits"
    rearranged = code[4:] + code[:4]
    if int("".join(str(int(c, 36)) for c in rearranged)) % 97 != 1:
        return f"IBAN {value!r} fails its MOD 97-10 checksum"
    try:
        _iban.validate(code)
    except InvalidComponent:
        # stdnum has no national format for this country (e.g. IR): the checksum above is what we have.
        if _iban.calc_check_digits(code) != code[2:4]:  # pragma: no cover - checksum already verified
            return f"IBAN {value!r} has wrong check digits"
    except ValidationError as exc:
        return f"IBAN {value!r}: {exc}"
    return None


def lei_problem(value: str) -> str | None:
    """Why ``value`` is not an LEI (ISO 17442: 20 characters, MOD 97-10 check digits)."""
    code = compact(value)
    try:
        _lei.validate(code)
    except ValidationError as exc:
        return f"LEI {value!r}: {exc}"
    return None


def imo_problem(value: str) -> str | None:
    """Why ``value`` is not an IMO ship number (7 digits with a weighted check digit)."""
    try:
        _imo.validate(value)
    except ValidationError as exc:
        return f"IMO number {value!r}: {exc}"
    return None


def imo_compact(value: str) -> str:
    """The 7 digits of an IMO number ("IMO 9176187" -> "9176187")."""
    return str(_imo.compact(value))


def bic8(value: str) -> str:
    """The institution part of a BIC (first 8 characters): a listed BIC8 covers all its branches."""
    return compact(value)[:8]


_IMO_IN_TEXT = re.compile(r"\bIMO[\s:#.]*([0-9]{7})\b", re.IGNORECASE)
_BIC_IN_TEXT = re.compile(r"\b([A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)\b")
_IBAN_IN_TEXT = re.compile(r"\b([A-Z]{2}[0-9]{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?)\b")


def ids_in_text(text: str) -> list[tuple[str, str]]:
    """Valid ``(kind, value)`` identifiers written inside free text: IMO numbers, IBANs and BICs.

    Only candidates that pass their checksum (or, for BICs, their shape and a known country) count,
    so ordinary upper-case words are not taken for BICs.
    """
    out: list[tuple[str, str]] = []
    for m in _IMO_IN_TEXT.finditer(text):
        if imo_problem(m.group(1)) is None:
            out.append(("imo", m.group(1)))
    upper = text.upper()
    for m in _IBAN_IN_TEXT.finditer(upper):
        if iban_problem(m.group(1)) is None:
            out.append(("iban", compact(m.group(1))))
    for m in _BIC_IN_TEXT.finditer(text):  # BICs are written in capitals; prose is not upper-cased
        word = m.group(1)
        if _looks_like_bic(word, text[max(0, m.start() - 12) : m.start()]) and bic_problem(word) is None:
            out.append(("bic", word))
    return out


def _looks_like_bic(word: str, before: str) -> bool:
    """An 8/11 capital word is taken for a BIC when labelled as one, has a digit, or ends in XXX."""
    return (
        "BIC" in before.upper()
        or "SWIFT" in before.upper()
        or any(c.isdigit() for c in word)
        or (len(word) == 11 and word.endswith("XXX"))
    )
