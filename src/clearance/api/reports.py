"""``/v1/reports`` and ``/v1/ledger``: OFAC reports due, overdue and filed; exports; filings; ledger entries.

The same data as ``clearance reports due|show|export|file`` and ``clearance ledger list``. Reading needs
the ``analyst`` role; recording a filing too, and each filing is written to the audit log.
"""

from __future__ import annotations

import asyncio
import os
from datetime import date
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Request
from fastapi import Query as QueryParam
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from clearance.api.auth import AnalystCaller
from clearance.api.payments import LedgerEntryOut
from clearance.api.problems import Problem
from clearance.api.service import Service
from clearance.ledger import Ledger
from clearance.ledger.views import entry_views
from clearance.policy.licenses import eastern_today
from clearance.reports.filings import Filing, FilingStore, ReportStatus, report_statuses
from clearance.reports.ofac import Filer, Report, all_reports, find_report, to_pdf

router = APIRouter(tags=["Reports and ledger"])

#: Days the API accepts (a bound keeps business-day arithmetic within the calendar).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2200, 12, 31)
REPORT_ID = r"^(RBP-[0-9]{6,12}|RRT-[0-9]{6,12}|ARBP-[0-9]{4})$"

Day = Annotated[
    date | None,
    QueryParam(ge=FIRST_DAY, le=LAST_DAY, description="Count from this day instead of today"),
]
ReportId = Annotated[
    str,
    Path(
        pattern=REPORT_ID, max_length=20, description="As listed by GET /v1/reports", examples=["RBP-000001"]
    ),
]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class _JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


_PROBLEM = {"content": {"application/problem+json": {"schema": {"type": "object"}}}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    s: {"description": d, **_PROBLEM}
    for s, d in (
        (400, "Malformed JSON, or the filing was refused (the detail says why)"),
        (401, "No or unknown API key"),
        (403, "The key's role does not allow this"),
        (404, "No such report or ledger entry"),
        (413, "Body too large"),
        (415, "The body is not sent as JSON"),
        (422, "A field is invalid; `errors` names it"),
        (503, "The database or the audit log is unavailable"),
    )
}


class FilingOut(BaseModel):
    seq: int
    report_id: str
    report_kind: str
    action: Literal["filed", "retracted"]
    filed_on: str | None
    due: str
    late: bool | None
    reference: str | None
    filed_by: str
    corrects: int | None
    note: str | None
    report_sha256: str | None = Field(..., description="SHA-256 of the report's JSON as filed")
    recorded_at: str
    hash: str


class StatusOut(BaseModel):
    id: str
    kind: Literal["blocked", "rejected", "annual"]
    title: str
    event_date: str
    due: str
    ledger_entries: list[int]
    state: Literal["due", "overdue", "filed"]
    overdue: bool
    days_left: int | None = Field(..., description="Calendar days to the due date, while due")
    business_days_left: int | None
    days_late: int | None = Field(..., description="Days past due: overdue now, or filed late")
    filing: FilingOut | None = Field(..., description="The filing record that stands, if filed")
    summary: str


class ReportsOut(BaseModel):
    today: str
    counts: dict[str, int] = Field(..., description="Reports by state: due, overdue, filed")
    reports: list[StatusOut] = Field(..., description="Earliest due first")


class ReportOut(BaseModel):
    report: dict[str, Any] = Field(..., description="The report as exported (JSON form of the OFAC report)")
    status: StatusOut
    filings: list[FilingOut] = Field(..., description="Every filing record of the report, oldest first")


class FilingIn(BaseModel):
    """That the report was submitted to OFAC on ``filed_on``; or, with ``retract``, that filing
    ``corrects`` was recorded by mistake. A report already filed is filed again only as a correction
    (``corrects``: the seq of the record that stands)."""

    model_config = ConfigDict(extra="forbid")

    filed_on: date | None = Field(None, ge=FIRST_DAY, le=LAST_DAY, description="Required unless `retract`")
    reference: Text | None = Field(None, description="OFAC's acknowledgement or case reference")
    corrects: int | None = Field(None, ge=1, le=2**62, description="The filing record this one replaces")
    retract: bool = False
    note: Text | None = None


class FilingCreated(FilingOut):
    request_id: str = Field(..., description="Names this call's record in the audit log")
    audit_seq: int


class HoldingOut(BaseModel):
    as_of: str
    principal: str
    interest: str
    balance: str
    releases: list[int]


class LedgerRowOut(LedgerEntryOut):
    """A ledger entry with where it stands now."""

    status: Literal["held", "partly-released", "released", "rejected", "release"]
    holding: HoldingOut | None = Field(..., description="For blocks: principal still held and interest")


class LedgerOut(BaseModel):
    as_of: str
    entries: list[LedgerRowOut]


def _filer() -> Filer:
    return Filer(name=os.environ.get("CLEARANCE_FILER") or "(filer not configured)")


def _database(request: Request) -> Any:
    service: Service = request.app.state.service
    return service.settings.database_path


def _statuses(request: Request, today: date, outstanding: bool) -> list[ReportStatus]:
    path = _database(request)
    with Ledger(path) as ledger, FilingStore(path) as filings:
        reports = all_reports(ledger, _filer(), today=today)
        return report_statuses(reports, filings, today=today, outstanding=outstanding)


def _one(request: Request, report_id: str, today: date) -> tuple[Report, ReportStatus, list[Filing]]:
    path = _database(request)
    with Ledger(path) as ledger, FilingStore(path) as filings:
        report = find_report(ledger, _filer(), report_id, today=today)
        [status] = report_statuses([report], filings, today=today)
        return report, status, filings.history(report_id)


@router.get("/v1/reports", response_model=ReportsOut, responses=PROBLEMS, summary="OFAC reports and status")
def list_reports(
    request: Request,
    caller: AnalystCaller,
    today: Day = None,
    outstanding: Annotated[bool, QueryParam(description="Only reports not yet filed")] = False,
    state: Annotated[
        Literal["due", "overdue", "filed"] | None, QueryParam(description="Only reports in this state")
    ] = None,
) -> _JSON:
    """Every report the ledger calls for (initial blocked-property reports, rejected-transaction
    reports, annual reports as of 30 June), with its due date and status: ``due`` (days left),
    ``overdue`` (past due, not filed) or ``filed`` (when, on time or late)."""
    day = today or eastern_today()
    found = _statuses(request, day, outstanding)
    counts = {s: sum(1 for x in found if x.state == s) for s in ("due", "overdue", "filed")}
    rows = [x.to_dict() for x in found if state is None or x.state == state]
    return _JSON({"today": day.isoformat(), "counts": counts, "reports": rows})


PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"description": "The report as PDF", "content": {"application/pdf": {"schema": {"type": "string"}}}},
    **PROBLEMS,
}


@router.get(
    "/v1/reports/{report_id}.pdf",
    response_class=Response,
    responses=PDF_RESPONSE,
    summary="One report as PDF",
)
def report_pdf(request: Request, caller: AnalystCaller, report_id: ReportId, today: Day = None) -> Response:
    """The report as a PDF filing copy (same as ``?format=pdf``)."""
    report, _, _ = _one(request, report_id, today or eastern_today())
    return _pdf(report)


def _pdf(report: Report) -> Response:
    return Response(
        to_pdf(report),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{report.id}.pdf"'},
    )


@router.get(
    "/v1/reports/{report_id}",
    response_model=ReportOut,
    responses={
        200: {"content": {"application/pdf": {"schema": {"type": "string"}}}},
        **PROBLEMS,
    },
    summary="One report, its status and filings",
)
def get_report(
    request: Request,
    caller: AnalystCaller,
    report_id: ReportId,
    today: Day = None,
    format: Annotated[Literal["json", "pdf"], QueryParam(description="`pdf`: the PDF filing copy")] = "json",
) -> Response:
    """The report's content (as ``clearance reports export --format json`` writes it), its status and
    every filing record about it. ``format=pdf`` answers with the PDF instead."""
    report, status, history = _one(request, report_id, today or eastern_today())
    if format == "pdf":
        return _pdf(report)
    return _JSON(
        {"report": report.to_dict(), "status": status.to_dict(), "filings": [f.to_dict() for f in history]}
    )


@router.post(
    "/v1/reports/{report_id}/filings",
    response_model=FilingCreated,
    status_code=201,
    responses=PROBLEMS,
    summary="Record a filing",
)
async def file_report(request: Request, caller: AnalystCaller, report_id: ReportId, body: FilingIn) -> _JSON:
    """Record that the report was submitted to OFAC (append-only: a correction is a new record naming
    the one it corrects). The caller is recorded as the filer, and the call in the audit log."""
    if body.retract and body.corrects is None:
        raise Problem(
            422, "corrects: a retraction names the filing record it withdraws", slug="invalid-request"
        )
    if not body.retract and body.filed_on is None:
        raise Problem(422, "filed_on: the day the report was submitted to OFAC is required")
    today = eastern_today()

    def write() -> Filing:
        path = _database(request)
        with Ledger(path) as ledger:
            filed_on = body.filed_on or today
            report = find_report(ledger, _filer(), report_id, today=max(today, filed_on))
        with FilingStore(path) as filings:
            if body.retract:
                assert body.corrects is not None
                return filings.retract(report, corrects=body.corrects, filed_by=caller.actor, note=body.note)
            return filings.file(
                report,
                filed_on=filed_on,
                filed_by=caller.actor,
                today=today,
                reference=body.reference,
                corrects=body.corrects,
                note=body.note,
            )

    filing = await asyncio.to_thread(write)
    record = filing.to_dict()
    service: Service = request.app.state.service
    try:
        request_id, seq = await service.record(
            caller.actor, "report-filing", {"endpoint": f"/v1/reports/{report_id}/filings", "filing": record}
        )
    except Exception as exc:
        raise Problem(
            503,
            f"filing #{filing.seq} of {report_id} was recorded, but the audit log could not record this call "
            f"({type(exc).__name__}); check `clearance reports show {report_id}` before retrying",
            slug="audit-unavailable",
        ) from exc
    return _JSON({**record, "request_id": request_id, "audit_seq": seq}, status_code=201)


@router.get("/v1/ledger", response_model=LedgerOut, responses=PROBLEMS, summary="Blocked-property ledger")
def get_ledger(
    request: Request,
    caller: AnalystCaller,
    status: Annotated[
        Literal["held", "partly-released", "released", "rejected", "release"] | None,
        QueryParam(description="Only entries in this state on `as_of`"),
    ] = None,
    as_of: Day = None,
) -> _JSON:
    """Ledger entries dated on or before ``as_of`` (default today), oldest first; each block with the
    principal it still holds, interest accrued and the releases (under license) so far."""
    day = as_of or eastern_today()
    with Ledger(_database(request)) as ledger:
        rows = entry_views(ledger, as_of=day, status=status)
    return _JSON({"as_of": day.isoformat(), "entries": rows})
