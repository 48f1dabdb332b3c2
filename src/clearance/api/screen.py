"""``POST /v1/screen``: one query or a batch, in the query shape of the batch files (docs/architecture)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Request
from fastapi import Query as QueryParam
from pydantic import BaseModel, ConfigDict, Field, model_validator

from clearance.api.auth import Caller, ScreenCaller
from clearance.api.metrics import Metrics
from clearance.api.problems import Problem, field_error
from clearance.api.screening import (
    JSONBytes,
    Pointer,
    answer_queries,
    check_rate,
    loaded_for,
    record,
)
from clearance.api.service import Service
from clearance.matching.types import QUERY_SCHEMATA, Query

router = APIRouter(tags=["Screening"])

SchemaName = Literal["Thing", "Person", "Organization", "Company", "LegalEntity", "Vessel", "Aircraft"]
assert set(get_args(SchemaName)) == set(QUERY_SCHEMATA), "keep SchemaName in step with QUERY_SCHEMATA"

DATE_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
Text = Annotated[str, Field(min_length=1, max_length=200)]
Name = Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]


class ScreenQuery(BaseModel):
    """One party to screen. Only ``name`` is required."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str | None = Field(None, max_length=200, description="Your reference; echoed in the result")
    name: Name = Field(..., examples=["China National Electronics Import & Export Corporation"])
    schema_: SchemaName = Field("Thing", alias="schema", description="`Thing` matches any kind of party")
    birth_date: str | None = Field(None, pattern=DATE_PATTERN, examples=["1970-05-17"])
    country: Text | None = Field(None, description="ISO code or country name", examples=["cn"])
    id_numbers: list[Text] = Field(default_factory=list, max_length=50)
    aliases: list[Name] = Field(default_factory=list, max_length=50)

    def to_query(self) -> Query:
        return Query(
            name=self.name,
            schema=self.schema_,
            id=self.id,
            birth_date=self.birth_date,
            country=self.country,
            id_numbers=list(self.id_numbers),
            aliases=list(self.aliases),
        )


class ScreenRequest(BaseModel):
    """Either one query (its fields at the top level) or ``queries``, a batch of up to 1,000."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {"id": "c-1", "name": "CEIEC", "schema": "Organization", "country": "cn"},
                {"queries": [{"id": "1", "name": "Ali Hassan", "schema": "Person", "birth_date": "1970"}]},
            ]
        },
    )

    id: str | None = Field(None, max_length=200)
    name: Name | None = None
    schema_: SchemaName | None = Field(None, alias="schema")
    birth_date: str | None = Field(None, pattern=DATE_PATTERN)
    country: Text | None = None
    id_numbers: list[Text] | None = Field(None, max_length=50)
    aliases: list[Name] | None = Field(None, max_length=50)
    queries: list[ScreenQuery] | None = Field(None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _one_or_batch(self) -> ScreenRequest:
        single = [
            f
            for f in ("id", "name", "schema_", "birth_date", "country", "id_numbers", "aliases")
            if getattr(self, f) is not None
        ]
        if self.queries is None and self.name is None:
            raise ValueError("give `name` (one query) or `queries` (a batch)")
        if self.queries is not None and single:
            names = ", ".join(f.rstrip("_") for f in single)
            raise ValueError(f"give either `queries` or the fields of one query, not both (also got {names})")
        return self

    def to_queries(self) -> list[Query]:
        if self.queries is not None:
            return [q.to_query() for q in self.queries]
        assert self.name is not None
        return [
            Query(
                name=self.name,
                schema=self.schema_ or "Thing",
                id=self.id,
                birth_date=self.birth_date,
                country=self.country,
                id_numbers=list(self.id_numbers or ()),
                aliases=list(self.aliases or ()),
            )
        ]


class ListVersionOut(BaseModel):
    id: int
    list: str
    label: str
    published: str
    imported_at: str
    content_hash: str
    entity_count: int


class MatchOut(BaseModel):
    entity_id: str
    score: float = Field(..., ge=0, le=1)
    match: bool
    name: str
    schema_: str = Field(..., alias="schema")
    list_version: str
    explanation: dict[str, Any]


class QueryResult(BaseModel):
    id: str | None
    matches: list[MatchOut]


class ScreenResponse(BaseModel):
    request_id: str = Field(..., description="Names this call's record in the audit log")
    audit_seq: int
    matcher_version: str
    threshold: float
    as_of: str | None
    list_versions: list[ListVersionOut]
    results: list[QueryResult] = Field(..., description="One per query, in order; matches best first")


PROBLEM = {"content": {"application/problem+json": {"schema": {"type": "object"}}}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    s: {"description": d, **PROBLEM}
    for s, d in (
        (400, "Malformed JSON"),
        (401, "No or unknown API key"),
        (403, "The key's role does not allow this"),
        (404, "No such entity, list or dataset"),
        (413, "Body or batch too large"),
        (415, "The body is not sent as JSON"),
        (422, "A field is invalid; `errors` names it"),
        (429, "Rate limit exceeded; see Retry-After"),
        (503, "Not ready, timed out, or the audit log is unavailable"),
    )
}


class ScreenParams(BaseModel):
    """The query-string parameters of ``POST /v1/screen``."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(10, ge=1, le=100, description="Matches to return per query")
    as_of: date | None = Field(None, description="Screen against the lists as they stood that day")


@router.post("/v1/screen", response_model=ScreenResponse, responses=PROBLEMS, summary="Screen names")
async def screen(
    request: Request,
    body: ScreenRequest,
    caller: ScreenCaller,
    params: Annotated[ScreenParams, QueryParam()],
) -> JSONBytes:
    """Screen one party or a batch against the lists in force (or ``as_of`` a past day).

    Returns, per query, the best candidates even below the threshold, each with a score in [0, 1], the
    verdict ``match`` at the threshold, and an explanation. The call is recorded in the audit log
    (``request_id``) before the answer is sent.

    (A running server answers this route in :class:`clearance.api.fastlane.ScreenFastLane`, which
    validates with the same models and calls the same :func:`screen_call`; this declaration gives
    the OpenAPI document and serves apps mounted without the fast lane.)
    """
    answer, request_id = await screen_call(
        request.app.state.service,
        request.app.state.metrics,
        caller,
        body,
        params,
        request.headers.get("x-request-id"),
    )
    return JSONBytes(answer, headers={"X-Request-Id": request_id})


async def screen_call(
    service: Service,
    metrics: Metrics,
    caller: Caller,
    body: ScreenRequest,
    params: ScreenParams,
    client_request_id: str | None,
) -> tuple[dict[str, Any], str]:
    """Screen, record, and give the answer and its audit request id. Raises :class:`Problem`."""
    with service.screening():
        queries = body.to_queries()
        if len(queries) > service.config.max_batch:
            raise Problem(
                413,
                f"{len(queries)} queries; at most {service.config.max_batch} a request",
                errors=[field_error(["queries"], f"at most {service.config.max_batch} items")],
            )
        check_rate(service, caller, len(queries))
        as_of = params.as_of
        loaded = await loaded_for(service, as_of, None)
        pointers: list[Pointer] = [("name",)]
        if body.queries is not None:
            pointers = [("queries", i, "name") for i in range(len(queries))]
        answers = await answer_queries(service, loaded, queries, params.limit, pointers)
        metrics.screened.labels("screen").inc(len(queries))
        alerts = sum(1 for a in answers if a.alert)
        if alerts:
            metrics.alerts.labels("screen").inc(alerts)
        as_of_text = as_of.isoformat() if as_of else None
        payload = {
            "endpoint": "/v1/screen",
            "client_request_id": client_request_id,
            "queries": [q.to_dict() for q in queries],
            "limit": params.limit,
            "as_of": as_of_text,
            "list_versions": loaded.versions_json,
            "matcher_version": loaded.matcher_version,
            "threshold": loaded.threshold,
            "results": [{"id": q.id, "matches": a.audited} for q, a in zip(queries, answers, strict=True)],
        }
        request_id, seq = await record(service, caller, "screen", payload)
    answer = {
        "request_id": request_id,
        "audit_seq": seq,
        "matcher_version": loaded.matcher_version,
        "threshold": loaded.threshold,
        "as_of": as_of_text,
        "list_versions": loaded.versions_json,
        "results": [{"id": q.id, "matches": a.matches_json} for q, a in zip(queries, answers, strict=True)],
    }
    return answer, request_id
