"""What both screening endpoints share: pick the screener, run the queries, rate-limit, record."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson
from starlette.responses import Response

from clearance.api.auth import Caller
from clearance.api.problems import Problem, field_error
from clearance.api.service import Loaded, Service
from clearance.errors import ClearanceError, QueryError
from clearance.matching.types import Match, Query

#: Batches up to this size are screened on the event loop; larger ones on a worker thread.
INLINE_QUERIES = 4


class JSONBytes(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def check_rate(service: Service, caller: Caller, cost: int) -> None:
    wait = service.limiter.take(caller.key_id or caller.actor, cost)
    if wait > 0:
        raise Problem(
            429,
            f"rate limit of {service.config.rate_limit:g} queries a second for this key exceeded; "
            f"retry in {wait:.2f} s",
            slug="rate-limited",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


async def loaded_for(service: Service, as_of: date | None, lists: Sequence[str] | None) -> Loaded:
    """The screener to use, or a 503 (not loaded yet) problem."""
    if service.current is None:
        why = service.load_error or "the screening index is still loading"
        raise Problem(503, f"not ready: {why}", slug="not-ready", headers={"Retry-After": "5"})
    loaded = service.loaded_for(as_of, lists)
    if loaded is None:
        loaded = await asyncio.to_thread(service.build_alternate, as_of, lists)
    return loaded


Pointer = Sequence[str | int]


def _screen_all(
    loaded: Loaded, queries: Sequence[Query], limit: int, deadline: float, pointers: Sequence[Pointer] | None
) -> list[list[Match]]:
    screener = loaded.screener
    out = []
    for i, query in enumerate(queries):
        if time.monotonic() > deadline:
            raise TimeoutError
        try:
            out.append(screener.screen(query, limit=limit))
        except QueryError as exc:
            where: Pointer = pointers[i] if pointers is not None else ("queries", i, "name")
            raise Problem(
                422,
                f"{'.'.join(str(p) for p in where)}: {exc}",
                slug="invalid-query",
                errors=[field_error(where, str(exc))],
            ) from exc
    return out


async def run_queries(
    service: Service,
    loaded: Loaded,
    queries: Sequence[Query],
    limit: int,
    pointers: Sequence[Pointer] | None = None,
) -> list[list[Match]]:
    """Screen ``queries``; ``pointers`` name each query's name field for error messages."""
    timeout = service.config.timeout
    deadline = time.monotonic() + timeout
    try:
        if len(queries) <= INLINE_QUERIES:
            return _screen_all(loaded, queries, limit, deadline, pointers)
        return await asyncio.to_thread(_screen_all, loaded, queries, limit, deadline, pointers)
    except TimeoutError:
        raise Problem(
            503,
            f"screening took longer than {timeout:g} s; send fewer queries per request",
            slug="timeout",
            headers={"Retry-After": "1"},
        ) from None
    except ClearanceError:
        raise
    except ValueError as exc:  # the matcher refused a query it cannot use
        raise Problem(422, f"query not usable: {exc}", slug="invalid-query") from exc


async def record(service: Service, caller: Caller, action: str, payload: dict[str, Any]) -> tuple[str, int]:
    """Durably record the call; a 503 when the audit log cannot be written (the result is withheld)."""
    try:
        return await service.record(caller.actor, action, payload)
    except Exception as exc:
        raise Problem(
            503,
            f"the audit log could not record this screening ({type(exc).__name__}); nothing was returned, "
            "retry later",
            slug="audit-unavailable",
        ) from exc


def audited_results(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the audit log keeps of each query's answer: every candidate's id, score, verdict and list
    version, and the explanation of the matches (the alerts an analyst reviews).

    The explanations of candidates below the threshold are left out: they are a deterministic function
    of the query, the list versions and the matcher version, which the record keeps, so replaying the
    record reproduces them (``clearance audit replay``), at a fraction of the bytes written per call.
    """
    return [
        {
            "id": result["id"],
            "matches": [
                {
                    "entity_id": m["entity_id"],
                    "score": m["score"],
                    "match": m["match"],
                    "list_version": m["list_version"],
                    **({"explanation": m["explanation"]} if m["match"] else {}),
                }
                for m in result["matches"]
            ],
        }
        for result in results
    ]
