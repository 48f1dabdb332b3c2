"""Scoring features. Each is a plain typed function with a weight and a description, what users are shown.

A listed entity's score is the weighted sum of the feature values, clipped to [0, 1]. Name features
read a :class:`~clearance.matching.scorer.NameComparison` (the best-scoring of the entity's names);
evidence features compare the query's secondary data (birth date, country, identifiers) with the
entity's. Adding a feature is adding a function and an entry (name, weight, function, description) in
``NAME_FEATURES`` or ``EVIDENCE_FEATURES``; bump :data:`~clearance.matching.index.MATCHER_VERSION` when
scores change. The descriptions are data there, not the functions' docstrings: this module is compiled
with mypyc (clearance.compiled), and compiled functions have no docstrings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from clearance.matching.evidence import dates_agree
from clearance.matching.index import NAME_DERIVED_ACRONYM, NAME_WEAK_ALIAS, EntityRecord, MatchIndex
from clearance.matching.scorer import NameComparison

#: Evidence (sum of the rarity, in nats, of aligned identifying tokens) that makes a partial match credible.
EVIDENCE_FULL = 11.0


@dataclass(slots=True, frozen=True)
class QueryEvidence:
    """A query's secondary data, normalised (see clearance.matching.evidence)."""

    birth_dates: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        """Whether the query states any secondary evidence at all."""
        return bool(self.birth_dates or self.countries or self.identifiers)


# --- name features (what each means is its description in NAME_FEATURES) ----------------------------


def query_coverage(cmp: NameComparison, index: MatchIndex) -> float:
    return cmp.query_coverage


def listed_coverage(cmp: NameComparison, index: MatchIndex) -> float:
    return cmp.listed_coverage


def weak_evidence(cmp: NameComparison, index: MatchIndex) -> float:
    if cmp.listed_unmatched_weight <= 0.0:
        return 0.0
    shortfall = max(0.0, 1.0 - cmp.evidence / EVIDENCE_FULL)
    if len(cmp.aligned) <= 1:
        shortfall = max(shortfall, 0.75)
    return shortfall


def numbers_differ(cmp: NameComparison, index: MatchIndex) -> float:
    if cmp.unmatched_query_numbers and (
        cmp.listed_numbers or cmp.unmatched_query_numbers == cmp.query_numbers
    ):
        return 1.0
    if cmp.unmatched_listed_numbers and cmp.query_numbers:
        return 1.0
    if cmp.unmatched_listed_numbers:
        return 0.5
    return 0.0


def acronym_only(cmp: NameComparison, index: MatchIndex) -> float:
    return 1.0 if index.name_flags[cmp.name_id] & NAME_DERIVED_ACRONYM else 0.0


def weak_alias(cmp: NameComparison, index: MatchIndex) -> float:
    if not index.name_flags[cmp.name_id] & NAME_WEAK_ALIAS:
        return 0.0
    words = sum(1 for t in index.name_tokens[cmp.name_id] if index.token_kind[t] in ("word", "number"))
    return 1.0 if words <= 1 else 0.4


def known_word_differs(cmp: NameComparison, index: MatchIndex) -> float:
    query = cmp.query
    total = sum(cmp.query_weights) or 1.0
    differing = 0.0
    for a in cmp.aligned:
        if a.sim < 1.0 and len(a.query) == 1 and query.known[a.query[0]] and query.kinds[a.query[0]] == "word":
            differing += cmp.query_weights[a.query[0]]
    return differing / total


NameFeatureFn = Callable[[NameComparison, MatchIndex], float]
EvidenceFeatureFn = Callable[[QueryEvidence, EntityRecord], float]


@dataclass(slots=True, frozen=True)
class Feature:
    """A scoring feature: its name, its weight, the function computing its value (in [0, 1]) and the
    one-sentence description explanations show users."""

    name: str
    weight: float
    fn: Callable[..., float]
    description: str


NAME_FEATURES: tuple[Feature, ...] = (
    Feature(
        "query_coverage",
        0.7,
        query_coverage,
        "Share of the query name, weighted by rarity, that aligns with the listed name (1 = every token).",
    ),
    Feature(
        "listed_coverage",
        0.3,
        listed_coverage,
        "Share of the listed name, weighted by rarity, that the query covers (a dropped middle name lowers it).",
    ),
    Feature(
        "weak_evidence",
        -0.3,
        weak_evidence,
        'The match leaves listed words unexplained and rests on few or common tokens ("Santos", "Juan Hernandez").',
    ),
    Feature(
        "numbers_differ",
        -0.5,
        numbers_differ,
        "A number in one name is missing from the other (Hoshikaze Maru No. 8 is not No. 6).",
    ),
    Feature(
        "acronym_only",
        -0.1,
        acronym_only,
        "The query met an acronym the matcher derived from the listed name's initials, not a listed name.",
    ),
    Feature(
        "weak_alias",
        -0.25,
        weak_alias,
        "The listed name met is a weak alias (a nickname the list itself calls weak); a one-word one counts fully.",
    ),
    Feature(
        "known_word_differs",
        -0.1,
        known_word_differs,
        'Share of the query that is a word the lists know, met only approximately: "Santos" is not "Santoso".',
    ),
)


# --- evidence features (described in EVIDENCE_FEATURES) ---------------------------------------------


def birth_date_match(query: QueryEvidence, entity: EntityRecord) -> float:
    best = 0.0
    for q in query.birth_dates:
        for listed in entity.birth_dates:
            if dates_agree(q, listed):
                best = max(best, 1.0 if min(len(q), len(listed)) >= 10 else 0.5)
    return best


def birth_date_mismatch(query: QueryEvidence, entity: EntityRecord) -> float:
    if not query.birth_dates or not entity.birth_dates:
        return 0.0
    for q in query.birth_dates:
        for listed in entity.birth_dates:
            if abs(int(q[:4]) - int(listed[:4])) <= 1:
                return 0.0
    return 1.0


def country_match(query: QueryEvidence, entity: EntityRecord) -> float:
    return 1.0 if set(query.countries) & set(entity.countries) else 0.0


def country_mismatch(query: QueryEvidence, entity: EntityRecord) -> float:
    if not query.countries or not entity.countries:
        return 0.0
    return 0.0 if set(query.countries) & set(entity.countries) else 1.0


def identifier_match(query: QueryEvidence, entity: EntityRecord) -> float:
    return 1.0 if set(query.identifiers) & set(entity.identifiers) else 0.0


def identifier_mismatch(query: QueryEvidence, entity: EntityRecord) -> float:
    if not query.identifiers or not entity.identifiers:
        return 0.0
    return 0.0 if set(query.identifiers) & set(entity.identifiers) else 1.0


EVIDENCE_FEATURES: tuple[Feature, ...] = (
    Feature(
        "birth_date_match",
        0.1,
        birth_date_match,
        "The query's date of birth agrees with a listed one (1 = full date, 0.5 = year only).",
    ),
    Feature(
        "birth_date_mismatch",
        -0.3,
        birth_date_mismatch,
        "The query's date of birth contradicts every listed one (years more than one apart).",
    ),
    Feature(
        "country_match",
        0.05,
        country_match,
        "The query's country is one the listed entity is tied to (nationality, citizenship, address, flag).",
    ),
    Feature(
        "country_mismatch",
        -0.1,
        country_mismatch,
        "The query's country is none of the listed entity's countries.",
    ),
    Feature(
        "identifier_match",
        1.0,
        identifier_match,
        "An identifier of the query (passport, registration, IMO, wallet...) equals a listed one: decisive.",
    ),
    Feature(
        "identifier_mismatch",
        -0.15,
        identifier_mismatch,
        "Both sides state identifiers and none agree: argues against the match.",
    ),
)
