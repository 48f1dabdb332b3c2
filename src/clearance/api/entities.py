"""``GET /v1/entities/{entity_id}``: a listed entity as its list version states it, with its history."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Query as QueryParam
from pydantic import BaseModel, Field

from clearance.api.auth import AnalystCaller
from clearance.api.screen import PROBLEMS, ListVersionOut
from clearance.api.screening import JSONBytes
from clearance.api.service import Service, version_json
from clearance.errors import NotFound

router = APIRouter(tags=["Entities"])


class HistoryEventOut(BaseModel):
    event: str = Field(..., description="added, changed or removed")
    version: ListVersionOut


class EntityOut(BaseModel):
    entity: dict[str, Any] = Field(..., description="FollowTheMoney JSON, with the source record under `raw`")
    listed: bool = Field(..., description="Whether the list version in force (as_of) still lists it")
    version: ListVersionOut = Field(..., description="The version the entity is shown from")
    first_seen: ListVersionOut | None
    last_seen: ListVersionOut | None
    history: list[HistoryEventOut]


@router.get(
    "/v1/entities/{entity_id}", response_model=EntityOut, responses=PROBLEMS, summary="Show an entity"
)
def get_entity(
    request: Request,
    entity_id: str,
    caller: AnalystCaller,
    as_of: Annotated[date | None, QueryParam(description="As the lists stood on this day")] = None,
) -> JSONBytes:
    """The entity as the list version in force states it (or the last version that listed it, with
    ``listed: false``), and when it was added, changed and removed."""
    service: Service = request.app.state.service
    store = service.store
    history = store.entity_history(entity_id)
    events = [e for e in history.events if as_of is None or e.version.published <= as_of]
    present = [e.version for e in events if e.event != "removed"]
    if not present:
        when = f" on or before {as_of}" if as_of else ""
        raise NotFound(f"{entity_id} is in no imported list version{when}")
    active = store.active_version(entity_id.split(":", 1)[0], as_of)
    shown = active if active is not None and active.id == present[-1].id else present[-1]
    entity = store.entity(entity_id, shown.id)
    assert entity is not None
    return JSONBytes(
        {
            "entity": entity.to_dict(),
            "listed": active is not None and shown.id == active.id,
            "version": version_json(shown),
            "first_seen": version_json(present[0]),
            "last_seen": version_json(present[-1]),
            "history": [
                {"event": e.event, "version": version_json(e.version)}
                for e in events
                if e.event in ("added", "changed", "removed")
            ],
        }
    )
