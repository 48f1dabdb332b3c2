"""Errors as RFC 9457 problem details (``application/problem+json``), naming the field at fault.

Every error the service returns has this shape::

    {"type": "https://clearance.dev/problems/invalid-request", "title": "Invalid request", "status": 422,
     "detail": "queries/3/name: String should have at least 1 character",
     "instance": "/v1/screen", "errors": [{"pointer": "#/queries/3/name", "field": "queries[3].name",
     "in": "body", "detail": "String should have at least 1 character"}]}

:class:`~clearance.errors.ClearanceError` maps to a 4xx with its own text (never a 500).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from clearance.errors import ClearanceError, DownloadError, NotFound, ParseError, QueryError, StoreError

log = logging.getLogger("clearance.api")

PROBLEM_TYPE = "https://clearance.dev/problems/"
MEDIA_TYPE = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    408: "Request timeout",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Timed out",
}


class Problem(Exception):
    """Raise from an endpoint to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        errors: Sequence[dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug
        self.errors = list(errors)
        self.headers = headers or {}


def field_error(pointer_parts: Sequence[str | int], detail: str, where: str = "body") -> dict[str, Any]:
    """One entry of a problem's ``errors``: a JSON pointer and a dotted name for the field, and why."""
    pointer = "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in pointer_parts)
    name = ""
    for part in pointer_parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return {"pointer": pointer, "field": name, "in": where, "detail": detail}


def problem_response(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    slug: str | None = None,
    errors: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    title = _TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + (slug or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
    return Response(orjson.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def status_for(exc: ClearanceError) -> int:
    """The HTTP status of a core error: what it means for the caller, always a 4xx or 502/503."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, (QueryError, ParseError)):
        return 422
    if isinstance(exc, DownloadError):
        return 502
    if isinstance(exc, StoreError):
        return 503
    return 400


def _validation_errors(raw: Sequence[Any]) -> tuple[int, list[dict[str, Any]]]:
    status = 422
    errors = []
    for err in raw:
        loc = list(err.get("loc", ()))
        where = str(loc.pop(0)) if loc and loc[0] in ("body", "query", "path", "header") else "body"
        if err.get("type") == "json_invalid":
            status = 400
            ctx = err.get("ctx") or {}
            detail = f"malformed JSON: {ctx.get('error', err.get('msg'))}"
            errors.append({"pointer": "#", "field": "", "in": "body", "detail": detail})
            continue
        # pydantic adds the validator or union branch name to the location; keep the data path only
        parts = [p for p in loc if isinstance(p, int) or not str(p).startswith(("function-", "union["))]
        errors.append(field_error(parts, str(err.get("msg", "invalid")), where))
    return status, errors


def validation_problem(raw: Sequence[Any], content_type: str, instance: str) -> Response:
    """The answer to invalid input. ``raw`` are pydantic's errors, each ``loc`` starting with where the
    value was (``body``, ``query``, ...); ``content_type`` is the request's, lower-cased, without
    parameters: a body sent as anything but JSON is a 415, whatever else is wrong."""
    body_errors = any(e.get("loc", ("",))[0] == "body" for e in raw)
    if content_type and not content_type.endswith(("/json", "+json")) and body_errors:
        return problem_response(
            415,
            f"the body must be JSON sent as Content-Type: application/json, not {content_type}",
            instance=instance,
        )
    status, errors = _validation_errors(raw)
    detail = "; ".join(f"{e['field'] or 'body'}: {e['detail']}" for e in errors[:5])
    if len(errors) > 5:
        detail += f"; and {len(errors) - 5} more"
    return problem_response(status, detail, instance=instance, errors=errors)


def clearance_problem(exc: ClearanceError, instance: str) -> Response:
    """A core error as a problem document, naming the field when the error does."""
    field = getattr(exc, "field", None)
    errors = [field_error([field], str(exc))] if field else []
    return problem_response(status_for(exc), str(exc), instance=instance, errors=errors)


def unexpected_problem(exc: BaseException, instance: str) -> Response:
    """The answer to an exception nothing else handled: a 400 for JSON nested too deeply, else a 500
    (logged with its traceback)."""
    if isinstance(exc, RecursionError):  # JSON nested deeper than the parser goes
        return problem_response(400, "malformed JSON: nested too deeply", instance=instance)
    log.error("unexpected error on %s", instance, exc_info=exc)
    return problem_response(500, "unexpected error; it has been logged", instance=instance)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem document."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(
            exc.status,
            exc.detail,
            instance=request.url.path,
            slug=exc.slug,
            errors=exc.errors,
            headers=exc.headers,
        )

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        return validation_problem(exc.errors(), content_type, request.url.path)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return problem_response(
            exc.status_code, str(exc.detail), instance=request.url.path, headers=dict(exc.headers or {})
        )

    async def on_clearance(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ClearanceError)
        return clearance_problem(exc, request.url.path)

    async def on_other(request: Request, exc: Exception) -> Response:
        return unexpected_problem(exc, request.url.path)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(ClearanceError, on_clearance)
    app.add_exception_handler(Exception, on_other)
