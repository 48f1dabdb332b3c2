"""Entities in FollowTheMoney's vocabulary: schemata, property names and ``<list>:<native id>`` ids.

An :class:`Entity` is deliberately a plain data object: parsers fill it, the store persists it as
FollowTheMoney JSON, and the matcher reads its names. Schema and property names are validated against
the FollowTheMoney model (``followthemoney`` is imported lazily: it is slow to load and the hot paths
never need it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

#: Properties that hold a name of the entity, strongest first.
NAME_PROPERTIES = ("name", "alias", "previousName", "weakAlias")

#: Schemata that name a party one can screen against (the rest are links, addresses, sanctions).
SCREENABLE_SCHEMATA = frozenset(
    {
        "Thing",
        "LegalEntity",
        "Person",
        "Organization",
        "Company",
        "PublicBody",
        "Vessel",
        "Aircraft",
        "Vehicle",
        "CryptoWallet",
        "Security",
        "Airplane",
    }
)


@dataclass(slots=True)
class Entity:
    """One listed party (or link) as a list states it.

    ``properties`` maps FollowTheMoney property names to their values, in the order the source gave
    them and without duplicates. ``raw`` keeps the source record the entity was parsed from.
    """

    id: str
    schema: str
    properties: dict[str, list[str]] = field(default_factory=dict)
    datasets: list[str] = field(default_factory=list)
    raw: dict[str, Any] | None = None

    def add(self, prop: str, value: str | None) -> None:
        """Add ``value`` to ``prop`` unless it is empty or already there."""
        if value is None:
            return
        value = value.strip()
        if not value:
            return
        values = self.properties.setdefault(prop, [])
        if value not in values:
            values.append(value)

    def get(self, prop: str) -> list[str]:
        return self.properties.get(prop, [])

    def first(self, prop: str) -> str | None:
        values = self.properties.get(prop)
        return values[0] if values else None

    @property
    def caption(self) -> str:
        """The entity's primary name, as a person would read it."""
        for prop in NAME_PROPERTIES:
            value = self.first(prop)
            if value:
                return value
        return self.id

    @property
    def names(self) -> list[str]:
        """Every name of the entity: primary, aliases, previous names and weak aliases."""
        out: list[str] = []
        for prop in NAME_PROPERTIES:
            for value in self.get(prop):
                if value not in out:
                    out.append(value)
        return out

    @property
    def list_name(self) -> str:
        """The list the entity comes from: the part of its id before the first colon."""
        return self.id.split(":", 1)[0]

    def to_dict(self, *, raw: bool = True) -> dict[str, Any]:
        """FollowTheMoney JSON (the OpenSanctions export shape), plus ``raw`` when asked."""
        data: dict[str, Any] = {
            "id": self.id,
            "schema": self.schema,
            "properties": {k: list(v) for k, v in self.properties.items() if v},
            "datasets": list(self.datasets),
        }
        if raw and self.raw is not None:
            data["raw"] = self.raw
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entity:
        props = data.get("properties") or {}
        return cls(
            id=str(data["id"]),
            schema=str(data["schema"]),
            properties={str(k): [str(v) for v in vs] for k, vs in props.items() if vs},
            datasets=[str(d) for d in data.get("datasets") or []],
            raw=data.get("raw"),
        )

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_SORT_KEYS)

    def content_hash(self) -> str:
        """A digest of everything the entity says, raw record included; equal entities hash equal."""
        return json_digest(self.to_json())


def json_digest(data: bytes) -> str:
    """The content hash of an entity from its :meth:`Entity.to_json` bytes (for callers that have them)."""
    return hashlib.sha1(data).hexdigest()


def entity_id(list_name: str, native_id: str | int) -> str:
    """The stable id contract: ``<list>:<native id>``."""
    return f"{list_name}:{native_id}"


@lru_cache(maxsize=1)
def _ftm_model() -> Any:
    from followthemoney import model

    return model


def schema_exists(name: str) -> bool:
    return _ftm_model().get(name) is not None


def invalid_properties(entity: Entity) -> list[str]:
    """Property names of ``entity`` its FollowTheMoney schema does not define (empty when all valid)."""
    schema = _ftm_model().get(entity.schema)
    if schema is None:
        return [f"schema {entity.schema!r}"]
    return [prop for prop in entity.properties if prop not in schema.properties]
