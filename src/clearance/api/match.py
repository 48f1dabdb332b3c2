"""``POST /match/{dataset}``: the OpenSanctions yente match API, so clients written for yente work unchanged.

Requests carry ``queries``, a mapping of the client's query ids to FollowTheMoney examples
(``{"schema": "Person", "properties": {"name": ["..."], "birthDate": ["1970"]}}``); the answer carries
``responses`` under the same ids, each with ``status``, ``results`` (id, caption, schema, properties,
datasets, score, match, features), ``total`` and the ``query`` echoed back. ``dataset`` is a list name
(``ofac-sdn``) or ``default``/``sanctions``/``all`` for every list.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Query as QueryParam
from pydantic import BaseModel, ConfigDict, Field

from clearance.api.auth import Caller, ScreenCaller
from clearance.api.problems import Problem, field_error
from clearance.api.screen import PROBLEMS
from clearance.api.screening import JSONBytes, check_rate, loaded_for, record, run_queries
from clearance.api.service import ALL_DATASETS, Loaded, Service
from clearance.matching.types import Match, Query
from clearance.store import EntityHistory, ListVersion

router = APIRouter(tags=["Matching (yente-compatible)"])

Value = str | int | float


class EntityExample(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str | None = Field(None, examples=["my-entity-id"])
    schema_: str = Field(..., alias="schema", examples=["Person"])
    properties: dict[str, Value | list[Value]] = Field(..., examples=[{"name": ["John Doe"]}])


class EntityMatchQuery(BaseModel):
    weights: dict[str, float] = Field(
        {}, description="Accepted for compatibility; Clearance's weights are fixed"
    )
    config: dict[str, Any] = Field({}, description="Accepted for compatibility; ignored")
    queries: dict[str, EntityExample]


class TotalSpec(BaseModel):
    value: int
    relation: str = "eq"


class ScoredEntityResponse(BaseModel):
    id: str
    caption: str
    schema_: str = Field(..., alias="schema")
    properties: dict[str, list[str]]
    datasets: list[str]
    referents: list[str] = []
    target: bool = True
    first_seen: str | None = None
    last_seen: str | None = None
    last_change: str | None = None
    score: float
    match: bool
    features: dict[str, float]
    explanation: dict[str, Any] | None = None


class EntityMatches(BaseModel):
    status: int = 200
    results: list[ScoredEntityResponse]
    total: TotalSpec
    query: dict[str, Any]


class FeatureDoc(BaseModel):
    description: str | None = None
    coefficient: float
    url: str = ""


class EntityMatchResponse(BaseModel):
    responses: dict[str, EntityMatches]
    matcher: dict[str, FeatureDoc]
    limit: int
    request_id: str
    list_versions: list[dict[str, Any]]
    matcher_version: str
    threshold: float


# -- FollowTheMoney example -> Query ----------------------------------------------------------------

_NAME_PROPS = ("name", "alias", "previousName", "weakAlias")
_COUNTRY_PROPS = ("nationality", "citizenship", "country", "jurisdiction", "mainCountry")
_ID_PROPS = (
    "idNumber",
    "registrationNumber",
    "imoNumber",
    "passportNumber",
    "taxNumber",
    "vatCode",
    "leiCode",
    "innCode",
    "ogrnCode",
    "swiftBic",
    "mmsi",
    "callSign",
    "serialNumber",
    "publicKey",
    "ricCode",
)
_QUERY_SCHEMA_ORDER = (
    ("Person", "Person"),
    ("Vessel", "Vessel"),
    ("Airplane", "Aircraft"),
    ("Company", "Company"),
    ("Organization", "Organization"),
    ("LegalEntity", "LegalEntity"),
)
_DATE = re.compile(r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")


@lru_cache(maxsize=1)
def ftm_model() -> Any:
    from followthemoney import model

    return model


@lru_cache(maxsize=512)
def _query_schema(schema_name: str) -> str | None:
    schema = ftm_model().get(schema_name)
    if schema is None:
        return None
    for ftm_name, ours in _QUERY_SCHEMA_ORDER:
        if ftm_model().get(ftm_name) is not None and schema.is_a(ftm_name):
            return ours
    return "Thing"


def example_to_query(qid: str, example: EntityExample) -> tuple[Query, dict[str, Any]]:
    """The Query for one example, and the example echoed back with list values (as yente does)."""
    query_schema = _query_schema(example.schema_)
    if query_schema is None:
        raise Problem(
            422,
            f"queries.{qid}.schema: {example.schema_!r} is not a FollowTheMoney schema",
            errors=[field_error(["queries", qid, "schema"], f"unknown schema {example.schema_!r}")],
        )
    schema = ftm_model().get(example.schema_)
    props: dict[str, list[str]] = {}
    for prop, raw in example.properties.items():
        if prop not in schema.properties:
            raise Problem(
                422,
                f"queries.{qid}.properties.{prop}: {example.schema_} has no property {prop!r}",
                errors=[
                    field_error(["queries", qid, "properties", prop], f"not a property of {example.schema_}")
                ],
            )
        values = [str(v).strip() for v in (raw if isinstance(raw, list) else [raw])]
        values = [v[:500] for v in values if v]
        if values:
            props[prop] = values
    names = [v for p in _NAME_PROPS for v in props.get(p, [])]
    if not names:
        parts = [
            props.get(p, [""])[0] for p in ("firstName", "secondName", "middleName", "fatherName", "lastName")
        ]
        composed = " ".join(p for p in parts if p)
        if composed:
            names = [composed]
    if not names:
        raise Problem(
            422,
            f"queries.{qid}.properties: a name (name, alias, firstName/lastName) is needed to screen",
            errors=[field_error(["queries", qid, "properties", "name"], "missing: screening needs a name")],
        )
    birth = next((m.group(0) for v in props.get("birthDate", []) if (m := _DATE.match(v))), None)
    country = next((v for p in _COUNTRY_PROPS for v in props.get(p, [])), None)
    id_numbers = list(dict.fromkeys(v for p in _ID_PROPS for v in props.get(p, [])))
    query = Query(
        name=names[0],
        schema=query_schema,
        id=qid,
        birth_date=birth,
        country=country,
        id_numbers=id_numbers[:50],
        aliases=list(dict.fromkeys(names[1:]))[:50],
    )
    return query, {"id": example.id, "schema": example.schema_, "properties": props}


# -- results ----------------------------------------------------------------------------------------


class EntityCache:
    """Listed entities by (id, version) for the result bodies; entities of a version never change."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int], dict[str, Any] | None] = OrderedDict()

    def get(self, service: Service, entity_id: str, version_id: int) -> dict[str, Any] | None:
        key = (entity_id, version_id)
        if key in self._items:
            return self._items[key]
        store = service.store
        entity = store.entity(entity_id, version_id)
        data = None
        if entity is not None:
            data = {
                "caption": entity.caption,
                "schema": entity.schema,
                "properties": {k: list(v) for k, v in entity.properties.items() if v},
                "datasets": list(entity.datasets) or [entity.list_name],
                **_seen(store.entity_history(entity_id), store.version(version_id)),
            }
        self._items[key] = data
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return data


def _seen(history: EntityHistory, served: ListVersion) -> dict[str, str | None]:
    """yente's ``first_seen``, ``last_seen`` and ``last_change`` from the entity's history up to the
    version served (later versions, imported since, are not seen): the publication days of the first
    version listing it, the served one, and the last that added or changed it."""
    events = [e for e in history.events if e.version.published <= served.published]
    present = [e.version for e in events if e.event != "removed"]
    changed = [e.version for e in events if e.event in ("added", "changed")]

    def stamp(version: ListVersion | None) -> str | None:
        return f"{version.published.isoformat()}T00:00:00" if version is not None else None

    return {
        "first_seen": stamp(present[0] if present else None),
        "last_seen": stamp(served),
        "last_change": stamp(changed[-1] if changed else None),
    }


def _result(
    service: Service, cache: EntityCache, loaded: Loaded, m: Match, threshold: float
) -> dict[str, Any]:
    version = loaded.version_for(m.list_version)
    entity = cache.get(service, m.entity_id, version.id) if version is not None else None
    if entity is None:
        entity = {"caption": m.name, "schema": m.schema, "properties": {"name": [m.name]}, "datasets": []}
    return {
        "id": m.entity_id,
        "caption": entity["caption"],
        "schema": entity["schema"],
        "properties": entity["properties"],
        "datasets": entity["datasets"],
        "referents": [],
        "target": True,
        "first_seen": entity.get("first_seen"),
        "last_seen": entity.get("last_seen"),
        "last_change": entity.get("last_change"),
        "score": round(m.score, 4),
        "match": m.score >= threshold,
        "features": {f.name: round(f.value, 4) for f in m.explanation.features},
        "explanation": m.explanation.to_dict(),
    }


def _keep(
    result: dict[str, Any],
    include: list[str],
    exclude: list[str],
    schemata: list[str],
    ids: set[str],
    topics: list[str],
) -> bool:
    datasets = set(result["datasets"]) | {result["id"].split(":", 1)[0]}
    if include and not datasets & set(include):
        return False
    if exclude and datasets & set(exclude):
        return False
    if result["schema"] in schemata or result["id"] in ids:
        return False
    return not topics or bool(set(result["properties"].get("topics", [])) & set(topics))


@router.post(
    "/match/{dataset}",
    response_model=EntityMatchResponse,
    responses=PROBLEMS,
    summary="Query by example matcher",
)
async def match(
    request: Request,
    body: EntityMatchQuery,
    dataset: str,
    caller: ScreenCaller,
    limit: Annotated[int, QueryParam(ge=1, le=500, title="Number of results to return")] = 5,
    threshold: Annotated[
        float | None, QueryParam(ge=0, le=1, title="Score threshold for results to be considered matches")
    ] = None,
    cutoff: Annotated[float, QueryParam(ge=0, le=1, deprecated=True, title="Lowest score returned")] = 0.0,
    algorithm: Annotated[
        str, QueryParam(max_length=100, title="Accepted for compatibility; one matcher")
    ] = "best",
    include_dataset: Annotated[
        list[str] | None, QueryParam(title="Only include results from these lists")
    ] = None,
    exclude_schema: Annotated[list[str] | None, QueryParam(title="Remove these types of entities")] = None,
    exclude_dataset: Annotated[list[str] | None, QueryParam(title="Remove these lists from results")] = None,
    topics: Annotated[list[str] | None, QueryParam(title="Only results with any of these topics")] = None,
    exclude_entity_ids: Annotated[
        list[str] | None, QueryParam(max_length=50, title="Entity ids to leave out of the results")
    ] = None,
) -> JSONBytes:
    """Match FollowTheMoney examples (a batch keyed by your own ids) against the lists, as yente does."""
    service: Service = request.app.state.service
    with service.screening():
        return await _match(
            service,
            request,
            body,
            dataset,
            caller,
            limit,
            threshold,
            cutoff,
            algorithm,
            include_dataset,
            exclude_schema,
            exclude_dataset,
            topics,
            exclude_entity_ids,
        )


async def _match(
    service: Service,
    request: Request,
    body: EntityMatchQuery,
    dataset: str,
    caller: Caller,
    limit: int,
    threshold: float | None,
    cutoff: float,
    algorithm: str,
    include_dataset: list[str] | None,
    exclude_schema: list[str] | None,
    exclude_dataset: list[str] | None,
    topics: list[str] | None,
    exclude_entity_ids: list[str] | None,
) -> JSONBytes:
    include_dataset, exclude_schema = include_dataset or [], exclude_schema or []
    exclude_dataset, topics, exclude_entity_ids = (
        exclude_dataset or [],
        topics or [],
        exclude_entity_ids or [],
    )
    if not body.queries:
        raise Problem(400, "No queries provided.", errors=[field_error(["queries"], "empty")])
    if len(body.queries) > service.config.max_batch:
        raise Problem(
            413,
            f"Too many queries in one batch (limit: {service.config.max_batch})",
            errors=[field_error(["queries"], f"at most {service.config.max_batch} entries")],
        )
    lists: list[str] | None = None
    if dataset not in ALL_DATASETS:
        known = service.store.lists()
        if dataset not in known:
            raise Problem(
                404,
                f"dataset {dataset!r} not found; use a list name ({', '.join(known) or 'none imported'}) "
                f"or one of {', '.join(sorted(ALL_DATASETS))}",
            )
        lists = [dataset]
    converted = [example_to_query(qid, ex) for qid, ex in body.queries.items()]
    check_rate(service, caller, len(converted))
    loaded = await loaded_for(service, None, lists)
    filtering = bool(include_dataset or exclude_schema or exclude_dataset or topics or exclude_entity_ids)
    fetch = min(limit * 3 + 10, 1000) if filtering else limit
    pointers = [["queries", str(q.id), "properties", "name"] for q, _ in converted]
    found = await run_queries(service, loaded, [q for q, _ in converted], fetch, pointers)
    cut = threshold if threshold is not None else loaded.threshold
    cache: EntityCache = request.app.state.entity_cache
    ids = set(exclude_entity_ids)
    responses: dict[str, Any] = {}
    matcher: dict[str, dict[str, Any]] = {}
    alerts = 0
    for (query, echo), matches in zip(converted, found, strict=True):
        results = [_result(service, cache, loaded, m, cut) for m in matches if m.score >= cutoff]
        if filtering:
            results = [
                r for r in results if _keep(r, include_dataset, exclude_dataset, exclude_schema, ids, topics)
            ]
        results = results[:limit]
        alerts += any(r["match"] for r in results)
        for m in matches:
            for f in m.explanation.features:
                matcher.setdefault(f.name, {"description": f.description, "coefficient": f.weight, "url": ""})
        assert query.id is not None
        responses[query.id] = {
            "status": 200,
            "results": results,
            "total": {"value": len(results), "relation": "eq"},
            "query": echo,
        }
    metrics = request.app.state.metrics
    metrics.screened.labels("match").inc(len(converted))
    if alerts:
        metrics.alerts.labels("match").inc(alerts)
    payload = {
        "endpoint": f"/match/{dataset}",
        "client_request_id": request.headers.get("x-request-id"),
        "params": {
            "limit": limit,
            "threshold": cut,
            "cutoff": cutoff,
            "algorithm": algorithm,
            "include_dataset": include_dataset,
            "exclude_schema": exclude_schema,
            "exclude_dataset": exclude_dataset,
            "topics": topics,
            "exclude_entity_ids": exclude_entity_ids,
        },
        "queries": {q.id: {"example": echo, "query": q.to_dict()} for q, echo in converted},
        "list_versions": loaded.versions_json,
        "matcher_version": loaded.matcher_version,
        "threshold": cut,
        "results": responses,
    }
    request_id, _ = await record(service, caller, "match", payload)
    return JSONBytes(
        {
            "responses": responses,
            "matcher": matcher,
            "limit": limit,
            "request_id": request_id,
            "list_versions": loaded.versions_json,
            "matcher_version": loaded.matcher_version,
            "threshold": cut,
        },
        headers={"X-Request-Id": request_id, "x-batch-size": str(len(responses))},
    )
