"""Small factories for test inputs."""

from __future__ import annotations

from typing import Any

from clearance.model import Entity


def make_entity(entity_id: str, schema: str = "Organization", **props: Any) -> Entity:
    """An entity with the given properties; a string value becomes a one-value list."""
    entity = Entity(id=entity_id, schema=schema, datasets=[entity_id.split(":", 1)[0]])
    for prop, value in props.items():
        for v in [value] if isinstance(value, str) else value:
            entity.add(prop, v)
    return entity
