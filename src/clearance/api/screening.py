"""What both screening endpoints share: pick the screener, run the queries, rate-limit, record."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Generator, Sequence
from datetime import date
from typing import Any, TypeVar

import orjson
from starlette.responses import Response

from clearance.api.answers import Answer, answer_for, query_key
from clearance.api.auth import Caller
from clearance.api.problems import Problem, field_error
from clearance.api.service import Loaded, Service
from clearance.errors import ClearanceError, QueryError
from clearance.matching.screener import finish_steps
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
T = TypeVar("T")
#: One query's screening in steps (see :meth:`Screener.screen_in_steps`): pauses, then returns the result.
Steps = Generator[None, None, T]


def _screen_all(
    one: Callable[[Query], Steps[T]],
    queries: Sequence[Query],
    deadline: float,
    pointers: Sequence[Pointer] | None,
) -> list[T]:
    """Each query's result, screened without pausing (on a worker thread)."""
    out = []
    for i, query in enumerate(queries):
        if time.monotonic() > deadline:
            raise TimeoutError
        try:
            out.append(finish_steps(one(query)))
        except QueryError as exc:
            raise _invalid_query(exc, i, pointers) from exc
    return out


async def _screen_inline(
    service: Service,
    one: Callable[[Query], Steps[T]],
    queries: Sequence[Query],
    deadline: float,
    pointers: Sequence[Pointer] | None,
) -> list[T]:
    """Each query's result, screened on the event loop: between the steps of each screening the audit
    writer's answers already waiting are taken, and when there were some the loop runs once, so the
    requests they belong to are answered now rather than after this screening (up to the time of a
    screening sooner, on a busy worker)."""
    out = []
    for i, query in enumerate(queries):
        if time.monotonic() > deadline:
            raise TimeoutError
        steps = one(query)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                out.append(done.value)
                break
            except QueryError as exc:
                raise _invalid_query(exc, i, pointers) from exc
            if service.take_audit_answers():
                await asyncio.sleep(0)
    return out


def _invalid_query(exc: QueryError, i: int, pointers: Sequence[Pointer] | None) -> Problem:
    where: Pointer = pointers[i] if pointers is not None else ("queries", i, "name")
    return Problem(
        422,
        f"{'.'.join(str(p) for p in where)}: {exc}",
        slug="invalid-query",
        errors=[field_error(where, str(exc))],
    )


async def _run(
    service: Service,
    one: Callable[[Query], Steps[T]],
    queries: Sequence[Query],
    pointers: Sequence[Pointer] | None,
) -> list[T]:
    """The result of each query's ``one``: small batches on the event loop, larger ones on a worker
    thread, within the service's timeout; ``pointers`` name each query's name field for error messages."""
    timeout = service.config.timeout
    deadline = time.monotonic() + timeout
    try:
        if len(queries) <= INLINE_QUERIES:
            return await _screen_inline(service, one, queries, deadline, pointers)
        return await asyncio.to_thread(_screen_all, one, queries, deadline, pointers)
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


async def run_queries(
    service: Service,
    loaded: Loaded,
    queries: Sequence[Query],
    limit: int,
    pointers: Sequence[Pointer] | None = None,
) -> list[list[Match]]:
    """Each query's matches, best first."""
    screener = loaded.screener

    def one(query: Query) -> Steps[list[Match]]:
        steps: Steps[list[Match]] = screener.screen_in_steps(query, limit=limit)
        return steps

    return await _run(service, one, queries, pointers)


async def answer_queries(
    service: Service,
    loaded: Loaded,
    queries: Sequence[Query],
    limit: int,
    pointers: Sequence[Pointer] | None = None,
) -> list[Answer]:
    """Each query's answer, from the snapshot's answer cache when the same query was screened there."""
    screener, cache = loaded.screener, loaded.answers

    def one(query: Query) -> Steps[Answer]:
        key = query_key(query, limit)
        found = cache.get(key)
        if found is None:
            found = answer_for((yield from screener.screen_in_steps(query, limit=limit)))
            cache.put(key, found)
        return found

    return await _run(service, one, queries, pointers)


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
