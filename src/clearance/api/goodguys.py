"""``/v1/goodguys``: good-guy decisions, an analyst's "customer X is not listed entity Y" until an expiry.

A decision clears the match of that customer with that listed entity only, until it expires, is revoked,
or the listed entity changes (``entity-changed``); it never hides a match with another listed entity.
Adding and revoking are for analysts, and each is committed to the audit log (naming the caller)
before it takes effect. A revoked decision is kept, marked with when and by whom.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi import Query as QueryParam
from pydantic import BaseModel, ConfigDict, Field

from clearance.api.auth import AnalystCaller
from clearance.api.licenses import POLICY_PROBLEMS, At, moment, policy_store, record_change
from clearance.api.problems import Problem, field_error
from clearance.api.service import Service
from clearance.errors import NotFound, ParseError
from clearance.policy.goodguy import GoodGuy, good_guy_for, parse_expiry, party_key, standing

router = APIRouter(tags=["Policy"])

Status = Literal["valid", "expired", "revoked", "not-yet", "entity-changed", "entity-not-listed"]
DecisionId = Annotated[int, PathParam(ge=1, le=2**63 - 1, description="The decision's number")]


class GoodGuyOut(BaseModel):
    id: int
    party_key: str = Field(..., description="The customer's id, or `name:` and its normalised name")
    entity_id: str = Field(..., description="The listed entity the customer is not")
    entity_hash: str = Field(..., description="The entity's content when decided; a change ends the decision")
    analyst: str
    note: str
    created_at: str
    expires_at: str
    revoked_at: str | None
    revoked_by: str | None
    status: Status = Field(..., description="At `at`; only `valid` decisions clear a match")


class GoodGuysOut(BaseModel):
    at: str
    good_guys: list[GoodGuyOut]


class GoodGuyChange(BaseModel):
    request_id: str = Field(..., description="Names the change's record in the audit log")
    audit_seq: int
    good_guy: GoodGuyOut


class GoodGuyIn(BaseModel):
    """The customer (its id, or its name when it is screened without one), the listed entity it is not,
    why, and until when."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "C-1001",
                    "entity_id": "ofac-sdn:30502",
                    "note": "Our customer is a Shenzhen retailer; CEIEC is a Beijing state exporter",
                    "expires_at": "2026-06-30",
                }
            ]
        },
    )

    customer_id: str | None = Field(None, min_length=1, max_length=200, description="The bank's id")
    customer_name: str | None = Field(None, min_length=1, max_length=500, description="When it has no id")
    entity_id: str = Field(..., min_length=1, max_length=200, examples=["ofac-sdn:30502"])
    note: str = Field(..., min_length=1, max_length=2000, description="Why the customer is not the entity")
    expires_at: str = Field(
        ...,
        min_length=1,
        max_length=40,
        description="YYYY-MM-DD (through the end of that day, US Eastern) or a date-time (no offset: US Eastern)",
    )


def _out(decision: GoodGuy, status: str) -> dict[str, Any]:
    return {**decision.to_dict(), "status": status}


@router.get(
    "/v1/goodguys", response_model=GoodGuysOut, responses=POLICY_PROBLEMS, summary="List good-guy decisions"
)
def get_good_guys(
    request: Request,
    caller: AnalystCaller,
    at: At = None,
    all_: Annotated[
        bool, QueryParam(alias="all", description="Also expired, revoked and invalidated decisions")
    ] = False,
) -> dict[str, Any]:
    """The decisions valid at ``at`` (now), or with ``all=true`` every decision with its status."""
    service: Service = request.app.state.service
    when = moment(at)
    with policy_store(service) as store:
        decisions = store.good_guys()
    rows = standing(decisions, service.store, when)
    return {"at": when.isoformat(), "good_guys": [_out(d, s) for d, s in rows if all_ or s == "valid"]}


@router.get(
    "/v1/goodguys/{decision_id}",
    response_model=GoodGuyOut,
    responses=POLICY_PROBLEMS,
    summary="Show a good-guy decision",
)
def get_good_guy(
    request: Request, decision_id: DecisionId, caller: AnalystCaller, at: At = None
) -> dict[str, Any]:
    service: Service = request.app.state.service
    with policy_store(service) as store:
        decision = store.good_guy(decision_id)
    ((_, status),) = standing([decision], service.store, moment(at))
    return _out(decision, status)


@router.post(
    "/v1/goodguys",
    status_code=201,
    response_model=GoodGuyChange,
    responses=POLICY_PROBLEMS,
    summary="Add a good-guy decision",
)
async def add_good_guy(request: Request, body: GoodGuyIn, caller: AnalystCaller) -> dict[str, Any]:
    """Clear the customer as not the listed entity (as the list version in force now states it) until
    ``expires_at``; the caller is recorded as the analyst."""
    service: Service = request.app.state.service

    def build() -> GoodGuy:
        key = party_key(body.customer_id, body.customer_name)
        expires = parse_expiry(body.expires_at)
        return good_guy_for(
            service.store, key, body.entity_id, analyst=caller.actor, note=body.note, expires_at=expires
        )

    try:
        decision = await asyncio.to_thread(build)
    except ParseError as exc:
        field = exc.field or "body"
        raise Problem(422, f"{field}: {exc.reason}", errors=[field_error([field], exc.reason)]) from None
    except NotFound as exc:
        raise Problem(422, f"entity_id: {exc}", errors=[field_error(["entity_id"], str(exc))]) from None
    payload = {"endpoint": "/v1/goodguys", "good_guy": decision.to_dict()}
    request_id, seq = await record_change(service, caller, "goodguy.add", payload)
    with policy_store(service) as store:
        saved = await asyncio.to_thread(store.add_good_guy, decision)
    ((_, status),) = standing([saved], service.store)
    return {"request_id": request_id, "audit_seq": seq, "good_guy": _out(saved, status)}


@router.post(
    "/v1/goodguys/{decision_id}/revoke",
    response_model=GoodGuyChange,
    responses=POLICY_PROBLEMS,
    summary="Revoke a good-guy decision",
)
async def revoke_good_guy(request: Request, decision_id: DecisionId, caller: AnalystCaller) -> dict[str, Any]:
    """End the decision now: the match alerts again. The decision is kept, marked revoked by the caller."""
    service: Service = request.app.state.service
    with policy_store(service) as store:
        decision = store.good_guy(decision_id)
        if decision.revoked_at is not None:
            raise Problem(
                409,
                f"good-guy decision #{decision_id} was revoked at {decision.revoked_at.isoformat()}"
                f" by {decision.revoked_by or 'unknown'}",
                slug="already-revoked",
            )
        payload = {"endpoint": f"/v1/goodguys/{decision_id}/revoke", "good_guy": decision.to_dict()}
        request_id, seq = await record_change(service, caller, "goodguy.revoke", payload)
        try:
            revoked = await asyncio.to_thread(store.revoke_good_guy, decision_id, None, caller.actor)
        except NotFound:
            raise Problem(
                409, f"good-guy decision #{decision_id} was revoked meanwhile", slug="already-revoked"
            ) from None
    ((_, status),) = standing([revoked], service.store)
    return {"request_id": request_id, "audit_seq": seq, "good_guy": _out(revoked, status)}
