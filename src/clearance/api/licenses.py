"""``/v1/licenses``: the licenses a decision reads (shipped and stored), and adding them.

Reading is for analysts; adding is for admins. A license is sent as JSON or YAML, one mapping or a list,
in the shape of ``src/clearance/data/licenses/*.yaml``, and validated by
:func:`~clearance.policy.licenses.parse_license`: a 422 names the field at fault. Every addition is
committed to the audit log before it is stored, so no license is in force without a record of who
added it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
import yaml
from fastapi import APIRouter, Request
from fastapi import Query as QueryParam
from pydantic import BaseModel, ConfigDict, Field

from clearance.api.auth import AdminCaller, AnalystCaller, Caller
from clearance.api.problems import Problem, field_error
from clearance.api.service import Service
from clearance.errors import NotFound, ParseError
from clearance.policy.licenses import MAX_YEAR, MIN_YEAR, License, aware, bundled_licenses, parse_license
from clearance.policy.storage import PolicyStore

router = APIRouter(tags=["Policy"])

PROBLEM = {"content": {"application/problem+json": {"schema": {"type": "object"}}}}
#: The problems the policy endpoints answer with (RFC 9457 documents, see api/problems.py).
POLICY_PROBLEMS: dict[int | str, dict[str, Any]] = {
    s: {"description": d, **PROBLEM}
    for s, d in (
        (400, "Malformed JSON or YAML"),
        (401, "No or unknown API key"),
        (403, "The key's role does not allow this"),
        (404, "No such license or good-guy decision"),
        (409, "The good-guy decision is already revoked"),
        (413, "Body too large"),
        (415, "The body is neither JSON nor YAML"),
        (422, "A field is invalid; `errors` names it"),
        (503, "The audit log could not record the change; nothing was changed"),
    )
}

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
MAX_LICENSES = 1000
LICENSE_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"


@contextmanager
def policy_store(service: Service) -> Iterator[PolicyStore]:
    """The policy tables (beside the list store, in the same database), for one request."""
    store = PolicyStore(service.settings.database_path)
    try:
        yield store
    finally:
        store.close()


def moment(at: datetime | None, name: str = "at") -> datetime:
    """``at`` (naive: US Eastern) or now; a 422 for years no license or decision can speak of."""
    if at is None:
        return datetime.now(UTC)
    if not MIN_YEAR <= at.year <= MAX_YEAR:
        detail = f"the year must lie between {MIN_YEAR} and {MAX_YEAR}"
        raise Problem(422, f"{name}: {detail}", errors=[field_error([name], detail, "query")])
    return aware(at)


async def record_change(
    service: Service, caller: Caller, action: str, payload: dict[str, Any]
) -> tuple[str, int]:
    """Commit the change to the audit log before it is made; a 503 (and no change) when that fails."""
    try:
        return await service.record(caller.actor, action, payload)
    except Exception as exc:
        raise Problem(
            503,
            f"the audit log could not record this change ({type(exc).__name__}); nothing was changed, retry later",
            slug="audit-unavailable",
            headers={"Retry-After": "5"},
        ) from exc


# -- models ------------------------------------------------------------------------------------------


class ConditionOut(BaseModel):
    code: str
    text: str


class LicenseOut(BaseModel):
    id: str
    kind: Literal["general", "specific"]
    title: str
    issuer: str
    number: str | None
    programs: list[str] = Field(..., description="Program tags whose prohibitions it lifts")
    entities: list[str] = Field(..., description="Listed entity ids it is limited to (empty: any)")
    include_owned: bool = Field(..., description="Also entities those own 50% or more of")
    transaction_types: list[str] = Field(..., description="What it authorizes; `*`: every type")
    parties: list[str] = Field(..., description="Specific licenses: the customers it was issued for")
    valid_from: str | None = Field(..., description="Wall-clock time in `timezone`, inclusive")
    valid_until: str | None = Field(..., description="Wall-clock time in `timezone`, exclusive")
    timezone: str
    conditions: list[ConditionOut]
    source: str | None
    notes: str | None
    origin: Literal["bundled", "stored"] = Field(..., description="Shipped with Clearance or added since")
    valid: bool = Field(..., description="Whether it is valid at `at` (now unless asked)")
    window: str = Field(..., description="The validity window, for people")


class LicensesOut(BaseModel):
    at: str
    licenses: list[LicenseOut]


class LicensesAdded(BaseModel):
    request_id: str = Field(..., description="Names the change's record in the audit log")
    audit_seq: int
    added: list[str] = Field(..., description="Ids that were new")
    replaced: list[str] = Field(..., description="Ids that replaced a license with the same id")
    licenses: list[LicenseOut]


class LicenseIn(BaseModel):
    """One license, as in ``src/clearance/data/licenses/*.yaml`` (documentation of the request body;
    the body is validated by the same parser as the files)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(..., pattern=LICENSE_ID, examples=["OFAC-VENEZUELA-GL38"])
    kind: Literal["general", "specific"]
    title: str = Field(..., min_length=1)
    issuer: str | None = None
    number: str | None = None
    programs: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    include_owned: bool = False
    transaction_types: list[str] = Field(..., min_length=1, examples=[["wind-down"]])
    parties: list[str] = Field(default_factory=list)
    valid_from: str | None = Field(None, examples=["2020-11-30T00:00"])
    valid_until: str | None = Field(None, examples=["2021-01-14T00:01"])
    timezone: str = "America/New_York"
    conditions: list[str | dict[str, str]] = Field(default_factory=list)
    source: str | None = None
    notes: str | None = None


_BODY_SCHEMA = {
    "anyOf": [
        LicenseIn.model_json_schema(),
        {"type": "array", "items": LicenseIn.model_json_schema(), "minItems": 1, "maxItems": MAX_LICENSES},
    ]
}


def license_json(lic: License, at: datetime, stored: set[str]) -> dict[str, Any]:
    return {
        **lic.to_dict(),
        "origin": "stored" if lic.id in stored else "bundled",
        "valid": lic.valid_at(at),
        "window": lic.window_text(),
    }


def _book(store: PolicyStore) -> tuple[list[License], set[str]]:
    """Bundled licenses overlaid with the stored ones (same id: the stored one), and the stored ids."""
    found = {lic.id: lic for lic in bundled_licenses()}
    stored = store.licenses()
    found.update((lic.id, lic) for lic in stored)
    return sorted(found.values(), key=lambda lic: lic.id), {lic.id for lic in stored}


# -- endpoints ---------------------------------------------------------------------------------------

At = Annotated[
    datetime | None, QueryParam(description="Validity at this time (no offset: US Eastern); default now")
]


@router.get("/v1/licenses", response_model=LicensesOut, responses=POLICY_PROBLEMS, summary="List licenses")
def get_licenses(request: Request, caller: AnalystCaller, at: At = None) -> dict[str, Any]:
    """Every license decisions read (shipped and stored), each with whether it is valid at ``at``."""
    when = moment(at)
    with policy_store(request.app.state.service) as store:
        licenses, stored = _book(store)
    return {"at": when.isoformat(), "licenses": [license_json(lic, when, stored) for lic in licenses]}


@router.get(
    "/v1/licenses/{license_id}",
    response_model=LicenseOut,
    responses=POLICY_PROBLEMS,
    summary="Show a license",
)
def get_license(request: Request, license_id: str, caller: AnalystCaller, at: At = None) -> dict[str, Any]:
    """One license: targets, transaction types, window (and whether ``at`` lies in it), conditions."""
    when = moment(at)
    with policy_store(request.app.state.service) as store:
        licenses, stored = _book(store)
    for lic in licenses:
        if lic.id == license_id:
            return license_json(lic, when, stored)
    raise NotFound(f"no license {license_id!r}; GET /v1/licenses lists them")


@router.post(
    "/v1/licenses",
    status_code=201,
    response_model=LicensesAdded,
    responses=POLICY_PROBLEMS,
    summary="Add licenses",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "One license or a list of them, as JSON or YAML",
            "content": {
                "application/json": {"schema": _BODY_SCHEMA},
                "application/yaml": {"schema": _BODY_SCHEMA},
            },
        }
    },
)
async def add_licenses(request: Request, caller: AdminCaller) -> dict[str, Any]:
    """Store licenses (a license with the id of another replaces it, a shipped one included). All are
    validated before any is stored; the change is recorded in the audit log first."""
    service: Service = request.app.state.service
    data = _read_body(await request.body(), request.headers.get("content-type", ""))
    licenses = _parse_licenses(data)
    with policy_store(service) as store:
        existing = {lic.id for lic in _book(store)[0]}
        payload = {
            "endpoint": "/v1/licenses",
            "licenses": [lic.to_dict() for lic in licenses],
            "replaces": sorted({lic.id for lic in licenses} & existing),
        }
        request_id, seq = await record_change(service, caller, "license.add", payload)
        await asyncio.to_thread(
            lambda: [store.put_license(lic, origin=f"api:{caller.actor}") for lic in licenses]
        )
        stored = {lic.id for lic in store.licenses()}
    when = datetime.now(UTC)
    return {
        "request_id": request_id,
        "audit_seq": seq,
        "added": [lic.id for lic in licenses if lic.id not in existing],
        "replaced": [lic.id for lic in licenses if lic.id in existing],
        "licenses": [license_json(lic, when, stored) for lic in licenses],
    }


def _read_body(raw: bytes, content_type: str) -> Any:
    media = content_type.split(";")[0].strip().lower()
    if not raw.strip():
        detail = "the body is empty: send one license or a list of them, as JSON or YAML"
        raise Problem(422, detail, errors=[field_error([], detail)])
    if media == "application/json" or media.endswith("+json"):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise Problem(400, f"malformed JSON: {exc}") from None
    if media in YAML_TYPES or media.endswith("+yaml"):
        return _read_yaml(raw)
    raise Problem(
        415,
        f"send the licenses as Content-Type: application/json or application/yaml, not {media or 'nothing'}",
    )


def _read_yaml(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
        # aliases let a small document expand into a huge one; a license never needs them
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise Problem(400, "malformed YAML: anchors and aliases (*name) are not accepted")
        return yaml.safe_load(text)
    except UnicodeDecodeError:
        raise Problem(400, "malformed YAML: the body is not UTF-8") from None
    except yaml.YAMLError as exc:
        raise Problem(400, f"malformed YAML: {exc}") from None
    except RecursionError:
        raise Problem(400, "malformed YAML: nested too deeply") from None


def _parse_licenses(data: Any) -> list[License]:
    """Every license of the body, or a 422 naming each field at fault (``#/2/valid_until``)."""
    items: Sequence[Any] = data if isinstance(data, list) else [data]
    single = not isinstance(data, list)
    if not items or len(items) > MAX_LICENSES:
        detail = f"send between 1 and {MAX_LICENSES} licenses"
        raise Problem(422, detail, errors=[field_error([], detail)])
    out: list[License] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where: list[str | int] = [] if single else [i]
        try:
            lic = parse_license(item, "body" if single else f"body[{i}]")
        except ParseError as exc:
            errors.append(field_error([*where, *([exc.field] if exc.field else [])], exc.reason))
            continue
        if not _valid_id(lic.id):
            errors.append(
                field_error(
                    [*where, "id"], "use letters, digits and . _ : - (at most 100, first a letter or digit)"
                )
            )
        elif lic.id in seen:
            errors.append(field_error([*where, "id"], f"{lic.id!r} appears twice in the body"))
        seen.add(lic.id)
        out.append(lic)
    if errors:
        detail = "; ".join(f"{e['field'] or 'body'}: {e['detail']}" for e in errors[:5])
        if len(errors) > 5:
            detail += f"; and {len(errors) - 5} more"
        raise Problem(422, detail, errors=errors)
    return out


def _valid_id(license_id: str) -> bool:
    return re.fullmatch(LICENSE_ID, license_id) is not None
