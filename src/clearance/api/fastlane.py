"""``POST /v1/screen`` answered straight from ASGI, outside the framework's per-request machinery.

Screening is the call payment and onboarding systems make thousands of times a second. Through FastAPI
each call passes some ten middleware and routing layers, dependency solving and a stdlib JSON parse
before it reaches the matcher: as much CPU again as screening a name against the whole SDN list. This
lane, mounted outside the app, takes that one route and does only what it needs:

* the body limit, read in chunks (``413`` before a byte too many is buffered);
* the API key (:func:`clearance.api.auth.authenticate`, the same check as every other route);
* validation with the route's own models (:class:`ScreenParams`, :class:`ScreenRequest`, parsed from
  bytes by pydantic-core), errors turned into the same problem documents
  (:func:`clearance.api.problems.validation_problem`);
* :func:`clearance.api.screen.screen_call`, which screens, records the call in the audit log and
  builds the answer, exactly as the declared FastAPI route does;
* the request metrics, by the route's template, as :class:`clearance.api.metrics.MetricsMiddleware`.

Every other request goes to the app unchanged. The FastAPI route stays declared: it gives the OpenAPI
document and serves apps mounted without this lane; ``tests/api/test_fastlane.py`` checks both answer
alike.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson
from prometheus_client import Counter
from pydantic import ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearance.api.auth import authenticate
from clearance.api.metrics import Metrics, declared_length_problem, too_large
from clearance.api.problems import (
    Problem,
    clearance_problem,
    problem_response,
    unexpected_problem,
    validation_problem,
)
from clearance.api.screen import ScreenParams, ScreenRequest, screen_call
from clearance.api.service import Service
from clearance.errors import ClearanceError

PATH = "/v1/screen"
_JSON_HEADERS = [(b"content-type", b"application/json")]


class _Refused(Exception):
    """Ends the lane early with a ready answer (a problem document)."""

    def __init__(self, response: Response) -> None:
        self.response = response


class ScreenFastLane:
    def __init__(self, app: ASGIApp, service: Service, metrics: Metrics) -> None:
        self.app = app
        self.service = service
        self.metrics = metrics
        self._requests: dict[int, Counter] = {}  # status -> the requests counter's child, made once per status
        self._latency = metrics.latency.labels(PATH)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        self.metrics.inflight.inc()
        status = 500
        try:
            try:
                status, headers, body = await self._screen(scope, receive)
            except Exception as exc:  # noqa: BLE001 - every error is answered as a problem document
                response = _error_response(exc)
                status = response.status_code
                await response(scope, receive, send)
                return
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:
            self.metrics.inflight.dec()
            counter = self._requests.get(status)
            if counter is None:
                counter = self._requests[status] = self.metrics.requests.labels("POST", PATH, str(status))
            counter.inc()
            self._latency.observe(time.perf_counter() - started)

    async def _screen(self, scope: Scope, receive: Receive) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        headers = _headers(scope)
        caller = authenticate(self.service, headers, "screen")
        raw = await self._body(headers, receive)
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        errors: list[Any] = []
        params = body = None
        try:
            params = ScreenParams.model_validate(_query(scope))
        except ValidationError as exc:
            errors += [{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]
        if content_type and not content_type.endswith(("/json", "+json")):
            errors.append({"loc": ("body",), "msg": "not JSON", "type": "content_type"})
        else:
            try:
                body = ScreenRequest.model_validate_json(raw)
            except ValidationError as exc:
                errors += [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        if errors or params is None or body is None:
            raise _Refused(validation_problem(errors, content_type, PATH))
        answer, request_id = await screen_call(
            self.service, self.metrics, caller, body, params, headers.get("x-request-id")
        )
        content = orjson.dumps(answer, option=orjson.OPT_NON_STR_KEYS)
        return (
            200,
            [
                *_JSON_HEADERS,
                (b"content-length", str(len(content)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
            content,
        )

    async def _body(self, headers: Mapping[str, str], receive: Receive) -> bytes:
        limit = self.service.config.max_body_bytes
        declared = headers.get("content-length")
        refused = declared_length_problem(declared, limit, PATH) if declared is not None else None
        if refused is not None:
            raise _Refused(refused)
        chunks: list[bytes] = []
        size = 0
        while True:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                raise _Refused(problem_response(400, "the client went away mid-request", instance=PATH))
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _Refused(too_large(limit, PATH))
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _error_response(exc: Exception) -> Response:
    """The problem document for what went wrong, as the app's exception handlers would give it."""
    if isinstance(exc, _Refused):
        return exc.response
    if isinstance(exc, Problem):
        return problem_response(
            exc.status, exc.detail, instance=PATH, slug=exc.slug, errors=exc.errors, headers=exc.headers
        )
    if isinstance(exc, ClearanceError):
        return clearance_problem(exc, PATH)
    return unexpected_problem(exc, PATH)


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name (the last of repeated ones), decoded as latin-1."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


def _query(scope: Scope) -> dict[str, str]:
    raw = scope.get("query_string", b"")
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True)) if raw else {}
