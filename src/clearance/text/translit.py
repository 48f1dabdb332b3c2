"""Transliteration of any script to Latin ASCII (Cyrillic, Arabic, Persian, Chinese, Greek, Hebrew, ...).

``anyascii`` does the work: its tables follow the BGN/PCGN-style spellings the sanctions lists use
(Хрущёв -> Khrushchev) and it costs microseconds, where ICU's transforms cost milliseconds per new
string (measured: 6.5 ms for an Arabic name), which would dominate screening latency. Chinese
characters and Korean syllables are written without spaces; each becomes its own token (习近平 ->
"Xi Jin Ping"), so a name written as one word (Xi Jinping) still meets it through token joins.
Text that is already ASCII is returned unchanged.
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

from clearance.text.tables import greek_digraphs, hangul_jamo, hangul_syllables

# scripts found by code point range (a regular expression scans a name many times faster than a loop)
_GREEK = re.compile("[\u0370-\u03ff\u1f00-\u1fff]")
_HANGUL = re.compile("[\uac00-\ud7a3]")
_ABJAD = re.compile("[\u0590-\u06ff\u0750-\u077f\ufb1d-\ufefc]")


def _is_syllabic(c: str) -> bool:
    """CJK ideographs and Hangul syllables: one character, one syllable."""
    o = ord(c)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xAC00 <= o <= 0xD7A3 or 0xF900 <= o <= 0xFAFF


def to_latin(text: str) -> str:
    """``text`` in Latin ASCII letters; characters without a transliteration vanish, never an exception."""
    if text.isascii():
        return text
    if _GREEK.search(text):
        text = _greek_pairs(text)
    out = []
    for c in text:
        if c.isascii():
            out.append(c)
            continue
        latin = anyascii(c)  # total: unknown code points (lone surrogates too) give ""
        out.append(f" {latin} " if _is_syllabic(c) else latin)
    return "".join(out)


def has_hangul(text: str) -> bool:
    """Whether ``text`` holds a Hangul syllable."""
    return _HANGUL.search(text) is not None


def hangul_mccune_reischauer(text: str) -> str:
    """``text`` with Hangul syllables spelt as the lists spell Korean names: 김정은 -> "Kim Jong Un".

    Each syllable becomes its own word (as in :func:`to_latin`); other characters are kept as they are.
    """
    initials, vowels, finals = hangul_jamo()
    special = hangul_syllables()
    out = []
    for c in text:
        o = ord(c) - 0xAC00
        if c in special:
            out.append(f" {special[c]} ")
        elif 0 <= o < 11172:
            out.append(f" {initials[o // 588]}{vowels[(o % 588) // 28]}{finals[o % 28]} ")
        else:
            out.append(c)
    return "".join(out)


def is_abjad(text: str) -> bool:
    """Whether ``text`` holds Arabic-script (Arabic, Persian, Urdu) or Hebrew letters, which leave short
    vowels unwritten."""
    return _ABJAD.search(text) is not None


def _greek_pairs(text: str) -> str:
    """Greek letter pairs that are one sound (ου, μπ, ντ, ...) written in Latin, accents dropped first."""
    text = unicodedata.normalize("NFD", text.lower())
    text = unicodedata.normalize("NFC", "".join(c for c in text if unicodedata.category(c) != "Mn"))
    for pattern, replacement in greek_digraphs():
        text = pattern.sub(replacement, text)
    return text
