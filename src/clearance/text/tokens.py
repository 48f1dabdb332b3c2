"""Name analysis: tokens with their compared (canonical) form, kind and phonetic skeleton.

``analyse_name("China Electronics Import-Export Co.")`` gives tokens ``china``, ``electronics``,
``import``, ``export`` and the legal form ``company``; ``analyse_name("Mohammed al-Kononoff",
organisation=False)`` gives ``muhammad`` (a name variant), the particle ``al`` and ``kononov`` (an ending
rule). The matcher compares ``canon``; explanations show ``form``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from clearance.text.normalise import clean, fold, tokenize
from clearance.text.tables import (
    abbreviations,
    endings,
    legal_forms,
    low_weight_tokens,
    name_variants,
    phonetic_rules,
)

#: Token kinds. ``word`` and ``number`` identify; the others carry little identity.
KINDS = ("word", "number", "initial", "legal", "particle", "honorific", "connector")


@dataclass(slots=True, frozen=True)
class Token:
    """One token of a name: ``form`` as written (normalised), ``canon`` as compared, and its ``kind``."""

    form: str
    canon: str
    kind: str


@dataclass(slots=True, frozen=True)
class NameTokens:
    """A name split into analysed tokens."""

    original: str
    tokens: tuple[Token, ...]

    @property
    def canon(self) -> list[str]:
        return [t.canon for t in self.tokens]

    @property
    def normalised(self) -> str:
        return " ".join(t.canon for t in self.tokens)


@lru_cache(maxsize=1)
def _phrase_index() -> tuple[
    dict[tuple[str, ...], tuple[str, str]], int, dict[tuple[str, ...], tuple[str, str]], int, frozenset[str]
]:
    """Legal forms and business words by their words, the longest of each, and every phrase's first word."""
    legal = {k: (v, "legal") for k, v in legal_forms().items()}
    abbr = {k: (v, "word") for k, v in abbreviations().items()}
    first = frozenset(k[0] for k in [*legal, *abbr])
    return legal, max(map(len, legal)), abbr, max(map(len, abbr)), first


@lru_cache(maxsize=65536)
def canonical_word(form: str) -> str:
    """The compared form of one word: name variants and spelling endings folded (idempotent)."""
    variants = name_variants()
    hit = variants.get(form)
    if hit is not None:
        return hit
    for ending, replacement, stem in endings():
        if form.endswith(ending) and len(form) - len(ending) >= stem:
            form = form[: -len(ending)] + replacement
            return variants.get(form, form)
    return form


@lru_cache(maxsize=65536)
def skeleton(token: str) -> str:
    """A phonetic key: spelling differences between romanisations folded away (hussain, hossein -> hsn)."""
    if not token.isalpha():
        return token
    out = token
    for pattern, compiled, replacement in phonetic_rules():
        out = out.replace(pattern, replacement) if compiled is None else compiled.sub(replacement, out)
    return out


@lru_cache(maxsize=65536)
def abjad_key(token: str) -> str:
    """The consonants of a token as Arabic, Persian and Hebrew script write them: "muhammad" and محمد
    (anyascii "mhmd") -> "mhmd", "suleimani" and سليماني ("slymny") -> "slmn".

    Those scripts leave short vowels out and write long ones with the letters y, w (v) and a final h, so
    the phonetic skeleton without vowels, y, w and a final h is what a romanised name and the
    transliterated script have in common; p and f are one letter (Hebrew פ). Empty for non-letters.
    """
    if not token.isalpha():
        return ""
    key = skeleton(token).replace("f", "p")
    key = re.sub(r"[aiv]", "", key).rstrip("h")
    return re.sub(r"(.)\1+", r"\1", key)


@lru_cache(maxsize=65536)
def _kind(form: str, organisation: bool) -> str:
    if any(c.isdigit() for c in form):
        return "number"
    if len(form) == 1:
        return "initial"
    kind = low_weight_tokens().get(form, "word")
    if kind == "connector" and not organisation:
        return "word"  # "il", "i", "en" are names in people's names
    return kind


def analyse_tokens(raw: list[str], *, organisation: bool = True) -> tuple[Token, ...]:
    """Analyse already tokenised text: phrases (legal forms, business words) first, then single words."""
    legal, legal_len, abbr, abbr_len, first = _phrase_index()
    out: list[Token] = []
    i, n = 0, len(raw)
    while i < n:
        if organisation and raw[i] in first:
            hit = None
            for size in range(min(max(legal_len, abbr_len), n - i), 0, -1):
                phrase = tuple(raw[i : i + size])
                hit = legal.get(phrase) or abbr.get(phrase)
                if hit is not None:
                    break
            if hit is not None:
                canon, kind = hit
                out.append(Token(" ".join(phrase), canon, kind))
                i += size
                continue
        form = raw[i]
        kind = _kind(form, organisation)
        canon = canonical_word(form) if kind in ("word", "particle", "honorific") else form
        out.append(Token(form, canon, kind))
        i += 1
    return tuple(out)


def analyse_name(text: str, *, organisation: bool = True) -> NameTokens:
    """Clean, fold, tokenise and analyse a name. ``organisation=False`` skips legal-form detection."""
    return NameTokens(text, analyse_tokens(tokenize(fold(clean(text))), organisation=organisation))


def acronyms(name: NameTokens) -> set[str]:
    """Acronyms a multi-word organisation name may go by: "China Electronics Import Export Corp" -> ceiec.

    Initials of the identifying words, with and without the legal form; connectors ("and", "of") are
    skipped. Only acronyms of three letters or more are returned.
    """
    words = [t for t in name.tokens if t.kind in ("word", "number", "initial", "particle")]
    legal = [t for t in name.tokens if t.kind == "legal"]
    if len(words) < 2:
        return set()
    base = "".join(t.form[0] for t in words)
    out = {base}
    if legal:
        out.add(
            "".join(
                t.form.split()[0][0] if t.kind != "legal" else "".join(p[0] for p in t.form.split())
                for t in name.tokens
                if t.kind in ("word", "number", "initial", "particle", "legal")
            )
        )
    return {a for a in out if len(a) >= 3}
