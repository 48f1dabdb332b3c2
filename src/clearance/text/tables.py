"""Loaders for the text tables under ``clearance/data/text`` (YAML, read once and cached)."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from clearance.errors import ClearanceError


class TableError(ClearanceError):
    """A text table under clearance/data/text is malformed; the message names the file and entry."""


def _text(value: Any, name: str, where: str) -> str:
    """A table cell as a string; YAML's surprises (``off`` read as False) are an error, not a silent bool."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TableError(f"{name}: {where} has {value!r}; quote it so YAML reads it as text")
    return str(value)


def load_yaml(name: str) -> Any:
    """The parsed content of ``clearance/data/text/<name>``."""
    path = resources.files("clearance") / "data" / "text" / name
    with path.open("r", encoding="utf-8") as f:
        return yaml.safe_load(f)


def _phrase_table(name: str) -> dict[tuple[str, ...], str]:
    data = load_yaml(name)
    if not isinstance(data, dict):
        raise TableError(f"{name}: expected a mapping of canonical form to spellings")
    out: dict[tuple[str, ...], str] = {}
    for canon, spellings in data.items():
        if not isinstance(spellings, list):
            raise TableError(f"{name}: entry {canon!r} must list its spellings")
        for spelling in [canon, *spellings]:
            spelling = _text(spelling, name, f"entry {canon!r}")
            phrase = tuple(re.split(r"[^a-z0-9]+", spelling.lower().replace("'", "")))
            phrase = tuple(p for p in phrase if p)
            if not phrase:
                raise TableError(f"{name}: entry {canon!r} has an empty spelling")
            if phrase in out and out[phrase] != str(canon):
                raise TableError(
                    f"{name}: {' '.join(phrase)!r} is listed under {out[phrase]!r} and {canon!r}"
                )
            out[phrase] = str(canon)
    return out


@lru_cache(maxsize=1)
def legal_forms() -> dict[tuple[str, ...], str]:
    """Spelling (as a token tuple) -> canonical legal form: ``("s", "a") -> "sa"``."""
    return _phrase_table("legal_forms.yaml")


@lru_cache(maxsize=1)
def abbreviations() -> dict[tuple[str, ...], str]:
    """Business-word spelling (as a token tuple) -> the full word: ``("intl",) -> "international"``."""
    return _phrase_table("abbreviations.yaml")


@lru_cache(maxsize=1)
def low_weight_tokens() -> dict[str, str]:
    """Token -> its kind (``particle``, ``honorific`` or ``connector``) for tokens that carry little identity."""
    data = load_yaml("particles.yaml")
    out: dict[str, str] = {}
    for kind in ("connectors", "honorifics", "particles"):  # later kinds win: a particle is a particle
        for token in data.get(kind) or []:
            out[_text(token, "particles.yaml", kind)] = kind.rstrip("s")
    return out


@lru_cache(maxsize=1)
def name_variants() -> dict[str, str]:
    """Spelling -> canonical spelling for groups of variants of one name (mohammed -> muhammad)."""
    data = load_yaml("name_variants.yaml")
    out: dict[str, str] = {}
    for group in data:
        if not isinstance(group, list) or not group:
            raise TableError(f"name_variants.yaml: {group!r} is not a non-empty list of spellings")
        canon = _text(group[0], "name_variants.yaml", f"group {group!r}")
        for spelling in group:
            spelling = _text(spelling, "name_variants.yaml", f"group {canon!r}")
            if spelling in out and out[spelling] != canon:
                raise TableError(
                    f"name_variants.yaml: {spelling!r} is in the groups of {out[spelling]!r} and {canon!r}"
                )
            out[spelling] = canon
    return out


@lru_cache(maxsize=1)
def endings() -> list[tuple[str, str, int]]:
    """``(ending, replacement, shortest stem)`` rules, longest ending first."""
    rules = [
        (_text(a, "endings.yaml", "a rule"), _text(b, "endings.yaml", "a rule"), int(n))
        for a, b, n in load_yaml("endings.yaml")
    ]
    return sorted(rules, key=lambda r: -len(r[0]))


@lru_cache(maxsize=1)
def phonetic_rules() -> list[tuple[str, re.Pattern[str] | None, str]]:
    """Ordered rewrites that build a token's phonetic skeleton: ``(pattern, compiled, replacement)``.

    ``compiled`` is ``None`` for a rule without regular-expression syntax ("kh" -> "h"), which is then a
    plain substring replacement (``str.replace`` gives the same result as ``re.sub`` for those, in a
    fraction of its time: a skeleton applies every rule).
    """
    rules: list[tuple[str, re.Pattern[str] | None, str]] = []
    for a, b in load_yaml("phonetic.yaml")["rules"]:
        pattern, replacement = _text(a, "phonetic.yaml", "a rule"), _text(b, "phonetic.yaml", "a rule")
        literal = re.escape(pattern) == pattern and "\\" not in replacement
        rules.append((pattern, None if literal else re.compile(pattern), replacement))
    return rules


@lru_cache(maxsize=1)
def hangul_jamo() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """McCune-Reischauer spellings of Hangul initials (19), vowels (21) and finals (28), in Unicode order."""
    data = load_yaml("hangul.yaml")
    out = []
    for part, size in (("initials", 19), ("vowels", 21), ("finals", 28)):
        values = data.get(part) if isinstance(data, dict) else None
        if not isinstance(values, list) or len(values) != size:
            raise TableError(f"hangul.yaml: {part} must list {size} spellings in Unicode order")
        out.append(tuple(_text(v, "hangul.yaml", part) for v in values))
    return out[0], out[1], out[2]


@lru_cache(maxsize=1)
def hangul_syllables() -> dict[str, str]:
    """Hangul syllables spelt other than by their letters in names (이 -> yi)."""
    data = load_yaml("hangul.yaml")
    table = data.get("syllables") or {}
    if not isinstance(table, dict):
        raise TableError("hangul.yaml: syllables must map a syllable to its spelling")
    return {
        _text(k, "hangul.yaml", "syllables"): _text(v, "hangul.yaml", f"syllable {k}")
        for k, v in table.items()
    }


@lru_cache(maxsize=1)
def greek_digraphs() -> list[tuple[re.Pattern[str], str]]:
    """Ordered rewrites of Greek letter pairs to their Latin spelling (``greek.yaml``)."""
    return [
        (re.compile(_text(a, "greek.yaml", "a rule")), _text(b, "greek.yaml", "a rule"))
        for a, b in load_yaml("greek.yaml")
    ]
