"""Small factories for policy tests: a store holding given entities, matches, licenses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from clearance.matching.types import Explanation, Match
from clearance.model import Entity
from clearance.policy.licenses import License, parse_license
from clearance.store.base import ListVersion
from clearance.store.sqlite import SQLiteStore
from tests.factories import make_entity


def listed(
    entity_id: str, name: str, program: str | list[str], schema: str = "Organization", **props: Any
) -> Entity:
    return make_entity(entity_id, schema, name=name, program=program, **props)


def add_version(
    store: SQLiteStore, list_name: str, published: date, entities: Sequence[Entity]
) -> ListVersion:
    version, _ = store.add_version(
        list_name=list_name,
        format="test",
        files=[f"{list_name}-{published}.csv"],
        content_hash=f"{list_name}-{published}-" + "-".join(sorted(e.content_hash() for e in entities)),
        published=published,
        published_from="given",
        entities=entities,
    )
    return version


def new_store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "clearance.sqlite3")


def match(entity: Entity, score: float = 0.95, verdict: bool = True, version: str = "test") -> Match:
    return Match(
        entity_id=entity.id,
        score=score,
        match=verdict,
        name=entity.caption,
        schema=entity.schema,
        list_version=version,
        explanation=Explanation(
            query_name=entity.caption, matched_name=entity.caption, aligned=[], features=[]
        ),
    )


def license_(**fields: Any) -> License:
    data: dict[str, Any] = {
        "id": "TEST-GL",
        "kind": "general",
        "title": "test license",
        "transaction_types": ["*"],
    }
    data.update(fields)
    return parse_license(data)
