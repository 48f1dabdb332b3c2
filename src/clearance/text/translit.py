"""Transliteration of any script to Latin ASCII (Cyrillic, Arabic, Persian, Chinese, Greek, Hebrew, ...).

ICU's transforms (through rigour's ``ascii_text``) do the work; ``anyascii`` is the fallback for the few
code points ICU leaves alone. Text that is already ASCII is returned unchanged, so this is cheap on the
common case.
"""

from __future__ import annotations

from functools import lru_cache

from anyascii import anyascii


@lru_cache(maxsize=1)
def _icu_ascii() -> object:
    from rigour.text.translit import ascii_text

    return ascii_text


def _is_cyrillic(text: str) -> bool:
    return any("\u0400" <= c <= "\u04ff" for c in text)


def to_latin(text: str) -> str:
    """``text`` in Latin ASCII letters; unknown characters become spaces, never an exception.

    Cyrillic goes through ``anyascii``, whose table follows the BGN/PCGN-style spellings the sanctions
    lists use (Хрущёв -> Khrushchev, not ICU's Hrusciov); other scripts through ICU, which keeps word
    boundaries in Chinese (习近平 -> xi jin ping).
    """
    if text.isascii():
        return text
    if _is_cyrillic(text) and all(c.isascii() or "\u0400" <= c <= "\u04ff" or not c.isalpha() for c in text):
        try:
            return anyascii(text)
        except Exception:
            pass
    try:
        out = str(_icu_ascii()(text))  # type: ignore[operator]
    except Exception:  # ICU may reject odd input (lone surrogates...): fall back, never raise
        out = ""
    if not out.isascii() or not out.strip():
        try:
            out = anyascii(out if out.strip() else text)
        except Exception:
            out = "".join(ch if ch.isascii() else " " for ch in text)
    return out
