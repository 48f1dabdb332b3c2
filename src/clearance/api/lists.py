"""``/v1/lists``: the versions in force and being served, what changed since a date, and updates."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Query as QueryParam
from pydantic import BaseModel, Field

from clearance.api.auth import AdminCaller, AnalystCaller, ScreenCaller
from clearance.api.problems import Problem, field_error
from clearance.api.screen import PROBLEMS, ListVersionOut
from clearance.api.screening import JSONBytes, record
from clearance.api.service import Service, version_json
from clearance.errors import NotFound
from clearance.store import ListVersion

router = APIRouter(tags=["Lists"])


def _age_days(v: ListVersion, now: datetime) -> float:
    published = datetime(v.published.year, v.published.month, v.published.day, tzinfo=UTC)
    return round((now - published).total_seconds() / 86400, 2)


class ListOut(BaseModel):
    list_: str = Field(..., alias="list")
    active: ListVersionOut
    versions: int
    age_days: float = Field(..., description="Days since the active version was published")
    served: bool = Field(..., description="Whether the screener in force was built from the active version")


class ServingOut(BaseModel):
    versions: list[ListVersionOut]
    matcher_version: str
    threshold: float
    loaded_at: str


class ListsOut(BaseModel):
    lists: list[ListOut]
    newest_data_age_days: float | None = Field(..., description="Age of the most recently published version")
    serving: ServingOut | None


@router.get("/v1/lists", response_model=ListsOut, responses=PROBLEMS, summary="List versions in force")
def get_lists(request: Request, caller: ScreenCaller) -> JSONBytes:
    """Each list's active version (with entity count and age) and what the screener is serving."""
    service: Service = request.app.state.service
    store = service.store
    now = datetime.now(UTC)
    current = service.current
    served = {v.id for v in current.versions} if current else set()
    rows: list[dict[str, Any]] = []
    for name in store.lists():
        versions = store.versions(name)
        active = store.active_version(name)
        if active is None:
            continue
        rows.append(
            {
                "list": name,
                "active": version_json(active),
                "versions": len(versions),
                "age_days": _age_days(active, now),
                "served": active.id in served,
            }
        )
    serving = None
    if current is not None:
        serving = {
            "versions": current.versions_json,
            "matcher_version": current.matcher_version,
            "threshold": current.threshold,
            "loaded_at": datetime.fromtimestamp(current.loaded_at, UTC).isoformat(),
        }
    return JSONBytes(
        {
            "lists": rows,
            "newest_data_age_days": min((float(r["age_days"]) for r in rows), default=None),
            "serving": serving,
        }
    )


class ChangeOut(BaseModel):
    entity_id: str
    properties: dict[str, dict[str, list[str]]]


class ChangesOut(BaseModel):
    list_: str = Field(..., alias="list")
    since: ListVersionOut | None = Field(..., description="The version in force at `since` (none: all added)")
    to: ListVersionOut
    added: list[str]
    removed: list[str]
    changed: list[ChangeOut]


def _since_version(service: Service, list_name: str, since: str) -> ListVersion | None:
    store = service.store
    ref = since.strip().lstrip("#")
    if ref.isdigit() and len(ref) < 9:
        version = store.version(int(ref))
        if version.list != list_name:
            raise Problem(
                422,
                f"since: version #{version.id} belongs to {version.list}, not {list_name}",
                errors=[field_error(["since"], "a version of another list", "query")],
            )
        return version
    try:
        day = date.fromisoformat(ref)
    except ValueError:
        raise Problem(
            422,
            f"since: {since!r} is neither a version id nor a date (YYYY-MM-DD)",
            errors=[field_error(["since"], "give a version id or a date", "query")],
        ) from None
    return store.active_version(list_name, day)


@router.get(
    "/v1/lists/{list_name}/changes", response_model=ChangesOut, responses=PROBLEMS, summary="Changes since"
)
def get_changes(
    request: Request,
    list_name: str,
    since: Annotated[str, QueryParam(max_length=40, description="A version id or a date (YYYY-MM-DD)")],
    caller: AnalystCaller,
) -> JSONBytes:
    """Entities added, removed and changed from the version in force at ``since`` to the newest one."""
    service: Service = request.app.state.service
    store = service.store
    latest = store.active_version(list_name)
    if latest is None:
        raise NotFound(f"no versions of list {list_name!r}")
    old = _since_version(service, list_name, since)
    if old is None:
        added = sorted(store.entity_hashes(latest.id))
        removed: list[str] = []
        changed: list[dict[str, Any]] = []
    else:
        diff = store.diff(old, latest)
        added, removed = diff.added, diff.removed
        changed = [
            {
                "entity_id": c.entity_id,
                "properties": {p: {"old": a, "new": b} for p, (a, b) in c.changed.items()},
            }
            for c in diff.changed
        ]
    return JSONBytes(
        {
            "list": list_name,
            "since": version_json(old) if old else None,
            "to": version_json(latest),
            "added": added,
            "removed": removed,
            "changed": changed,
        }
    )


class UpdateRequest(BaseModel):
    lists: list[str] | None = Field(None, max_length=50, description="Lists to update (default: all known)")
    download: bool = Field(True, description="Fetch new files first; false only reloads from the store")


class UpdateOut(BaseModel):
    updates: list[dict[str, Any]]
    swapped: bool = Field(..., description="Whether a screener for newer versions was swapped in")
    serving: list[ListVersionOut]
    seconds: float
    request_id: str = Field(..., description="Names this update's record in the audit log")


@router.post(
    "/v1/lists/update",
    response_model=UpdateOut,
    responses={**PROBLEMS, 501: {"description": "Downloading is not available in this build"}},
    summary="Update the lists",
)
async def update(request: Request, caller: AdminCaller, body: UpdateRequest | None = None) -> JSONBytes:
    """Download the official lists (or only reload the store), then swap in a screener for what changed.
    The old screener serves every request until the new one is ready."""
    service: Service = request.app.state.service
    body = body or UpdateRequest(lists=None, download=True)
    started = time.perf_counter()
    updates: list[dict[str, Any]] = []
    if body.download:
        try:
            from clearance.lists.download import update_lists
        except ImportError as exc:
            raise Problem(501, f"downloading lists is not available in this build: {exc}") from exc

        def run() -> list[Any]:
            return list(update_lists(service.store, service.settings, body.lists))

        results = await asyncio.to_thread(run)
        for r in results:
            version = getattr(r, "version", None)
            updates.append(
                {
                    "list": getattr(r, "list_name", None),
                    "status": getattr(r, "status", None),
                    "version": version_json(version) if version is not None else None,
                    "message": getattr(r, "message", None),
                }
            )
    swapped = await asyncio.to_thread(service.reload)
    current = service.current
    answer = {
        "updates": updates,
        "swapped": swapped,
        "serving": current.versions_json if current else [],
        "seconds": round(time.perf_counter() - started, 3),
    }
    request_id, _ = await record(
        service, caller, "lists.update", {"endpoint": "/v1/lists/update", "request": body.model_dump(), **answer}
    )
    return JSONBytes({**answer, "request_id": request_id}, headers={"X-Request-Id": request_id})
