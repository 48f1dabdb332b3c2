"""Cleaning, case folding and tokenising of names.

The pipeline for one string is ``clean`` (Unicode NFKC, control and format characters removed, spaces
collapsed), ``fold`` (transliterated to Latin ASCII and lower-cased) and ``tokenize`` (punctuation rules:
apostrophes and dots join, ``&`` is "and", every other non-alphanumeric character separates tokens).
``normalise_name`` runs all three and returns the tokens joined by single spaces. Each step is idempotent.
"""

from __future__ import annotations

import re
import unicodedata

from clearance.text.translit import to_latin

#: Unicode categories removed outright: controls, format characters, surrogates, private use, unassigned.
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_SPACES = re.compile(r"\s+")
_JOINERS = re.compile(r"['`´’‘ʼʻ.]")  # O'Brien -> obrien, S.A. -> sa, Hyo'k -> hyok
_AMPERSAND = re.compile(r"&")
_SEPARATORS = re.compile(r"[^a-z0-9]+")


def clean(text: str) -> str:
    """NFKC-normalised text without control or format characters, whitespace collapsed and trimmed.

    Control characters separate words (a tab or NUL between two words keeps them apart); format
    characters (zero-width joiners, soft hyphens, direction marks) and unassigned code points vanish.
    """
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii() or not text.isprintable():
        text = "".join(_clean_char(c) for c in text)
    return _SPACES.sub(" ", text).strip()


def _clean_char(c: str) -> str:
    if c.isprintable() or c == " ":
        return c
    category = unicodedata.category(c)
    if category == "Cc" or category.startswith("Z"):
        return " "
    if category in _DROP_CATEGORIES:
        return ""
    return c


def fold(text: str) -> str:
    """Latin ASCII, lower case: "Хрущёв" -> "khrushchev", "Núñez" -> "nunez"."""
    return to_latin(text).lower()


def tokenize(text: str) -> list[str]:
    """Lower-case ASCII alphanumeric tokens of folded text, punctuation rules applied."""
    text = _JOINERS.sub("", text.lower())
    text = _AMPERSAND.sub(" and ", text)
    return [t for t in _SEPARATORS.split(text) if t]


def normalise_name(text: str) -> str:
    """The comparable form of a name: cleaned, folded, tokenised, tokens joined by single spaces."""
    return " ".join(tokenize(fold(clean(text))))
