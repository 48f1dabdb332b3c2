"""FollowTheMoney entities as JSON lines (the OpenSanctions export format), in and out.

Each line is an object with ``id``, ``schema``, ``properties`` (property name → list of values) and
optionally ``datasets``, ``referents``, ``first_seen``, ``last_seen``, ``target``, ``caption``. Schema and
property names are checked against followthemoney's model. Ids, and the values of entity-typed
properties (a Sanction's ``entity``, an Ownership's ``owner``), are prefixed ``<list>:`` unless they
already carry it, so links inside the list keep pointing at the right entities. Lines with the same id are
fragments of one entity and merge (their schemata must be compatible). ``raw`` keeps each line's object.

:func:`write` exports entities in the same shape, so a round trip gives the same entities back.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any, cast

import orjson

from clearance.errors import ParseError
from clearance.lists.base import ParsedList
from clearance.lists.common import decode_utf8, read_bytes
from clearance.model import Entity, entity_id


def read(paths: Sequence[Path], list_name: str) -> ParsedList:
    from followthemoney import model

    prefix = f"{list_name}:"
    entities: dict[str, Entity] = {}
    lines: dict[str, tuple[Path, int]] = {}
    for path in paths:
        text = decode_utf8(path, read_bytes(path))
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise ParseError(f"not a JSON object: {exc}", path=path, line=number) from exc
            entity = _entity(path, number, data, list_name, prefix, model)
            existing = entities.get(entity.id)
            if existing is None:
                entities[entity.id] = entity
                lines[entity.id] = (path, number)
            else:
                _merge(path, number, existing, entity, lines[entity.id], model)
    return ParsedList(entities=list(entities.values()), published=None)


def _prefixed(value: str, list_name: str, prefix: str) -> str:
    return value if value.startswith(prefix) else entity_id(list_name, value)


def _entity(path: Path, number: int, data: Any, list_name: str, prefix: str, model: Any) -> Entity:
    if not isinstance(data, dict):
        raise ParseError("each line must be a JSON object (an entity)", path=path, line=number)
    raw_id = data.get("id")
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise ParseError("the entity has no id (a non-empty string)", path=path, line=number, field="id")
    schema_name = data.get("schema")
    schema = model.get(schema_name) if isinstance(schema_name, str) else None
    if schema is None:
        raise ParseError(
            f"schema {schema_name!r} is not a FollowTheMoney schema", path=path, line=number, field="schema"
        )
    props = data.get("properties", {})
    if props is None:
        props = {}
    if not isinstance(props, dict):
        raise ParseError("properties must be an object", path=path, line=number, field="properties")
    datasets = data.get("datasets") or []
    if not isinstance(datasets, list) or not all(isinstance(d, str) for d in datasets):
        raise ParseError("datasets must be a list of strings", path=path, line=number, field="datasets")
    entity = Entity(
        id=_prefixed(raw_id.strip(), list_name, prefix), schema=schema.name, datasets=[list_name], raw=data
    )
    for name, values in props.items():
        prop = schema.properties.get(name)
        if prop is None:
            raise ParseError(
                f"{schema.name} has no property {name!r}", path=path, line=number, field=f"properties.{name}"
            )
        if isinstance(values, str | int | float):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str | int | float) for v in values):
            raise ParseError(
                f"values of {name!r} must be a list of strings",
                path=path,
                line=number,
                field=f"properties.{name}",
            )
        for value in values:
            text = str(value).strip()
            if text and prop.type.name == "entity":
                text = _prefixed(text, list_name, prefix)
            entity.add(name, text)
    return entity


def _merge(
    path: Path, number: int, existing: Entity, fragment: Entity, first: tuple[Path, int], model: Any
) -> None:
    try:
        common = model.common_schema(existing.schema, fragment.schema)
    except Exception as exc:  # followthemoney raises InvalidData
        raise ParseError(
            f"id {fragment.id!r} is a {fragment.schema} here but a {existing.schema} at {first[0]} line {first[1]}",
            path=path,
            line=number,
            field="schema",
        ) from exc
    existing.schema = common.name
    for prop, values in fragment.properties.items():
        for value in values:
            existing.add(prop, value)
    fragments = existing.raw.get("fragments") if isinstance(existing.raw, dict) else None
    if fragments is None:
        existing.raw = {"fragments": [existing.raw]}
    existing.raw["fragments"].append(fragment.raw)  # type: ignore[index]


def to_ftm(entity: Entity, *, raw: bool = False) -> dict[str, Any]:
    """The entity as one FollowTheMoney JSON object (``raw`` added only when asked)."""
    data = entity.to_dict(raw=raw)
    data["caption"] = entity.caption
    return data


def write(entities: Iterable[Entity], fp: IO[str] | IO[bytes], *, raw: bool = False) -> int:
    """Write ``entities`` to ``fp`` (text or binary) as FtM JSON lines; returns how many were written."""
    binary = not isinstance(fp, io.TextIOBase) and "b" in getattr(fp, "mode", "b")
    count = 0
    for entity in entities:
        line = orjson.dumps(to_ftm(entity, raw=raw)) + b"\n"
        if binary:
            cast(IO[bytes], fp).write(line)
        else:
            cast(IO[str], fp).write(line.decode("utf-8"))
        count += 1
    return count
