"""Who is calling: API keys (``Authorization: ApiKey <key>``, ``Bearer <key>`` or ``X-API-Key``) and roles.

401 without a valid key, 403 when the key's role does not allow the endpoint. With ``--no-auth`` (only
allowed on a loopback address) every caller is the anonymous admin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from clearance.api.problems import Problem
from clearance.api.service import Service
from clearance.audit.keys import role_allows

# Declared for the OpenAPI document (the docs' "Authorize" button); the check itself is below.
api_key_scheme = APIKeyHeader(
    name="Authorization",
    scheme_name="ApiKey",
    description="`ApiKey <key>` (as yente clients send it) or `Bearer <key>`; `X-API-Key: <key>` also works.",
    auto_error=False,
)


@dataclass(slots=True, frozen=True)
class Caller:
    actor: str  # how the audit log names the caller
    role: str
    key_id: str | None


ANONYMOUS = Caller(actor="anonymous (--no-auth)", role="admin", key_id=None)


def _token(headers: Mapping[str, str]) -> str | None:
    header = headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("apikey", "bearer", "token") and value.strip():
            return value.strip()
        return header.strip()
    return headers.get("x-api-key")


def authenticate(service: Service, headers: Mapping[str, str], needed: str) -> Caller:
    """The caller named by the request's ``headers`` (lower-case names), or a 401/403 problem."""
    if not service.config.auth:
        return ANONYMOUS
    token = _token(headers)
    if not token:
        raise Problem(
            401,
            "an API key is required: send `Authorization: ApiKey <key>` (create one with `clearance keys create`)",
            slug="unauthorized",
            headers={"WWW-Authenticate": 'ApiKey realm="clearance"'},
        )
    assert service.keys is not None
    key = service.keys.authenticate(token)
    if key is None:
        raise Problem(
            401,
            "the API key is unknown, malformed or revoked",
            slug="unauthorized",
            headers={"WWW-Authenticate": 'ApiKey realm="clearance"'},
        )
    if not role_allows(key.role, needed):
        raise Problem(
            403, f"this endpoint needs the {needed!r} role; key {key.id} has {key.role!r}", slug="forbidden"
        )
    return Caller(actor=key.actor, role=key.role, key_id=key.id)


def require(needed: str) -> Callable[[Request], Awaitable[Caller]]:
    """A FastAPI dependency: the caller, if their key has (at least) the ``needed`` role."""

    async def dependency(request: Request, _key: str | None = Security(api_key_scheme)) -> Caller:
        service: Service = request.app.state.service
        return authenticate(service, request.headers, needed)

    dependency.__name__ = f"require_{needed}"
    return dependency


ScreenCaller = Annotated[Caller, Depends(require("screen"))]
AnalystCaller = Annotated[Caller, Depends(require("analyst"))]
AdminCaller = Annotated[Caller, Depends(require("admin"))]
