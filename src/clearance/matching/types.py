"""The screening contract: what a query is and what a match says (see docs/architecture.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Schemata a query may name. ``Thing`` means "unknown": it may match anything.
QUERY_SCHEMATA = ("Thing", "Person", "Organization", "Company", "LegalEntity", "Vessel", "Aircraft")


@dataclass(slots=True)
class Query:
    """One party to screen. Only ``name`` is required; every other field is secondary evidence."""

    name: str
    schema: str = "Thing"
    id: str | None = None
    birth_date: str | None = None  # "1970", "1970-05" or "1970-05-17"
    country: str | None = None  # ISO code or country name
    id_numbers: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The query as plain JSON data (what the audit log records; ``Query(**d)`` rebuilds it)."""
        return {
            "name": self.name,
            "schema": self.schema,
            "id": self.id,
            "birth_date": self.birth_date,
            "country": self.country,
            "id_numbers": list(self.id_numbers),
            "aliases": list(self.aliases),
        }


@dataclass(slots=True)
class FeatureScore:
    """One feature's contribution to a score: its name, what it measured and how it moved the score."""

    name: str
    value: float
    weight: float
    description: str


@dataclass(slots=True)
class Explanation:
    """Why a listed entity matched: which names met, which tokens aligned, which features counted."""

    query_name: str
    matched_name: str
    aligned: list[tuple[str, str, float]]  # (query token, listed token, similarity)
    features: list[FeatureScore]

    def to_dict(self) -> dict[str, Any]:
        return {
            "query_name": self.query_name,
            "matched_name": self.matched_name,
            "aligned": [{"query": q, "listed": c, "similarity": _rounded(s, 3)} for q, c, s in self.aligned],
            "features": [
                {"name": f.name, "value": _rounded(f.value, 4), "weight": f.weight, "description": f.description}
                for f in self.features
            ],
        }


@dataclass(slots=True)
class Match:
    """A listed entity scored against a query. ``match`` is the verdict at the screener's threshold."""

    entity_id: str
    score: float
    match: bool
    name: str
    schema: str
    list_version: str
    explanation: Explanation

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "score": _rounded(self.score, 4),
            "match": self.match,
            "name": self.name,
            "schema": self.schema,
            "list_version": self.list_version,
            "explanation": self.explanation.to_dict(),
        }


def _rounded(value: float, digits: int) -> float:
    """``round(value, digits)``, without its decimal conversion (about 0.5 us) for 0 and 1, which most
    feature values and token similarities are: an answer rounds about a hundred numbers."""
    if value == 0.0 or value == 1.0:
        return value
    return round(value, digits)
