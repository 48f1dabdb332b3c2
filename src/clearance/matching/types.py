"""The screening contract: what a query is and what a match says (see docs/architecture.md).

Compiled with the matcher (it makes a ``Match``, an ``Explanation`` and some seven ``FeatureScore`` per
candidate it explains), each class writes its own ``__init__`` (``init=False``): compiled, that is a
native constructor, about four times cheaper than the one @dataclass generates, which mypyc leaves
interpreted. The dataclass still gives ``repr``, ``==``, ``fields()`` and ``replace()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: Schemata a query may name. ``Thing`` means "unknown": it may match anything.
QUERY_SCHEMATA = ("Thing", "Person", "Organization", "Company", "LegalEntity", "Vessel", "Aircraft")


@dataclass(slots=True, init=False)
class Query:
    """One party to screen. Only ``name`` is required; every other field is secondary evidence."""

    name: str
    schema: str
    id: str | None
    birth_date: str | None  # "1970", "1970-05" or "1970-05-17"
    country: str | None  # ISO code or country name
    id_numbers: list[str]
    aliases: list[str]

    def __init__(
        self,
        name: str,
        schema: str = "Thing",
        id: str | None = None,
        birth_date: str | None = None,
        country: str | None = None,
        id_numbers: list[str] | None = None,
        aliases: list[str] | None = None,
    ) -> None:
        self.name = name
        self.schema = schema
        self.id = id
        self.birth_date = birth_date
        self.country = country
        self.id_numbers = [] if id_numbers is None else id_numbers
        self.aliases = [] if aliases is None else aliases

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


@dataclass(slots=True, init=False)
class FeatureScore:
    """One feature's contribution to a score: its name, what it measured and how it moved the score."""

    name: str
    value: float
    weight: float
    description: str

    def __init__(self, name: str, value: float, weight: float, description: str) -> None:
        self.name = name
        self.value = value
        self.weight = weight
        self.description = description


@dataclass(slots=True, init=False)
class Explanation:
    """Why a listed entity matched: which names met, which tokens aligned, which features counted."""

    query_name: str
    matched_name: str
    aligned: list[tuple[str, str, float]]  # (query token, listed token, similarity)
    features: list[FeatureScore]

    def __init__(
        self,
        query_name: str,
        matched_name: str,
        aligned: list[tuple[str, str, float]],
        features: list[FeatureScore],
    ) -> None:
        self.query_name = query_name
        self.matched_name = matched_name
        self.aligned = aligned
        self.features = features

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


@dataclass(slots=True, init=False)
class Match:
    """A listed entity scored against a query. ``match`` is the verdict at the screener's threshold."""

    entity_id: str
    score: float
    match: bool
    name: str
    schema: str
    list_version: str
    explanation: Explanation

    def __init__(
        self,
        entity_id: str,
        score: float,
        match: bool,
        name: str,
        schema: str,
        list_version: str,
        explanation: Explanation,
    ) -> None:
        self.entity_id = entity_id
        self.score = score
        self.match = match
        self.name = name
        self.schema = schema
        self.list_version = list_version
        self.explanation = explanation

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
    """``round(value, digits)`` (0 <= digits <= 15), the same float, mostly without its exact decimal
    conversion (about 1,500 instructions): an answer rounds about a hundred numbers.

    ``round`` rounds the exact binary value to the nearest ``k / 10**digits``, ties to even, and returns
    the float nearest that decimal. For a value well inside a rounding step, ``k`` is the integer nearest
    ``value * 10**digits`` however that product was rounded (for |product| < 2**20 its error is below
    1e-10, and the value is at least 1e-9 from a tie), and ``k / 10.0**digits`` is the float nearest the
    decimal (10.0**digits is exact, the division correctly rounded). Ties and near-ties, large values,
    infinities and NaN go to ``round`` itself."""
    if value == 0.0 or value == 1.0:
        return value
    scale = 10.0**digits
    scaled = value * scale
    if abs(scaled) < 1048576.0:  # 2**20; False for NaN
        whole = math.floor(scaled)
        if abs(scaled - whole - 0.5) > 1e-9:
            nearest = whole + 1 if scaled - whole > 0.5 else whole
            return math.copysign(nearest / scale, value)  # -0.0 for a small negative value, as round gives
    return round(value, digits)
