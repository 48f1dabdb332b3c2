"""OFAC reports built from the blocked-property ledger, with their due dates (31 CFR 501.603, 501.604).

- Initial **Report of Blocked Property**: one per ``block`` entry, due within 10 business days of the
  day the property was blocked (501.603(b)(1)).
- **Report of Rejected Transactions**: one per ``reject`` entry, due within 10 business days of the
  rejection (501.604).
- **Annual Report of Blocked Property**: everything still blocked as of 30 June (principal net of
  licensed releases, plus interest accrued under the ledger's convention), due 30 September
  (501.603(b)(2)).

Business days exclude weekends and US federal holidays (:mod:`clearance.reports.holidays`). Each report
exports as JSON (:func:`to_json`) and PDF (:func:`to_pdf`, a dependency-free writer in
:mod:`clearance.reports.pdf`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import orjson

from clearance.errors import NotFound
from clearance.ledger import Ledger, LedgerEntry
from clearance.reports.holidays import add_business_days
from clearance.reports.pdf import render_pdf

BUSINESS_DAYS_TO_REPORT = 10
ANNUAL_AS_OF = (6, 30)
ANNUAL_DUE = (9, 30)

KIND_TITLES = {
    "blocked": "Report of Blocked Property (initial)",
    "rejected": "Report of Rejected Transaction",
    "annual": "Annual Report of Blocked Property",
}


@dataclass(slots=True, frozen=True)
class Filer:
    """The institution filing the reports (name and address go on every report)."""

    name: str = "(filer not configured)"
    address: str = ""
    contact: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "address": self.address, "contact": self.contact}


@dataclass(slots=True)
class Report:
    id: str
    kind: str  # blocked | rejected | annual
    event_date: date  # the blocking / rejection day, or the annual as-of day (30 June)
    due: date
    entries: list[int]
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return KIND_TITLES[self.kind]

    def overdue(self, today: date) -> bool:
        return today > self.due

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "event_date": self.event_date.isoformat(),
            "due": self.due.isoformat(),
            "ledger_entries": list(self.entries),
            **self.body,
        }


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _property(entry: LedgerEntry) -> dict[str, Any]:
    details = entry.details
    tx = details.get("transaction") or {}
    return {
        "owner": entry.owner,
        "owner_entity_id": entry.owner_entity_id,
        "programs": list(entry.programs),
        "description": (
            f"funds transfer {entry.message_kind or ''} {entry.message_id or ''}".strip()
            + (f", end-to-end id {tx['end_to_end_id']}" if tx.get("end_to_end_id") else "")
        ),
        "amount": _money(entry.amount),
        "currency": entry.currency,
        "originator": details.get("originator"),
        "beneficiary": details.get("beneficiary"),
        "value_date": details.get("value_date"),
        "interested_parties": details.get("interests", []),
        "reasons": [r.get("message") for r in details.get("reasons", [])],
        "payment_instructions_sha256": entry.message_sha256,
        "ledger_hash": entry.hash,
    }


def blocked_report(entry: LedgerEntry, filer: Filer) -> Report:
    """The initial Report of Blocked Property for a ``block`` entry."""
    return Report(
        id=f"RBP-{entry.seq:06d}",
        kind="blocked",
        event_date=entry.event_date,
        due=add_business_days(entry.event_date, BUSINESS_DAYS_TO_REPORT),
        entries=[entry.seq],
        body={
            "filer": filer.to_dict(),
            "date_blocked": entry.event_date.isoformat(),
            "property": _property(entry),
            "blocked_account": {
                "interest_bearing": True,
                "annual_rate": str(entry.annual_rate) if entry.annual_rate is not None else None,
                "convention": "simple interest, actual/365, accrued daily from the day after blocking",
            },
        },
    )


def rejected_report(entry: LedgerEntry, filer: Filer) -> Report:
    """The Report of Rejected Transactions for a ``reject`` entry."""
    return Report(
        id=f"RRT-{entry.seq:06d}",
        kind="rejected",
        event_date=entry.event_date,
        due=add_business_days(entry.event_date, BUSINESS_DAYS_TO_REPORT),
        entries=[entry.seq],
        body={
            "filer": filer.to_dict(),
            "date_rejected": entry.event_date.isoformat(),
            "transaction": _property(entry),
        },
    )


def annual_report(ledger: Ledger, year: int, filer: Filer) -> Report:
    """Everything blocked as of 30 June ``year``, with principal, interest and value; due 30 September."""
    as_of = date(year, *ANNUAL_AS_OF)
    holdings = ledger.holdings(as_of)
    totals: dict[str, Decimal] = {}
    items = []
    for held in holdings:
        totals[held.block.currency] = totals.get(held.block.currency, Decimal(0)) + held.balance
        items.append(
            {
                **_property(held.block),
                "date_blocked": held.block.event_date.isoformat(),
                "principal_blocked": _money(held.block.amount),
                "released_under_license": [
                    {
                        "ledger_entry": r.seq,
                        "license_id": r.license_id,
                        "amount": _money(r.amount),
                        "date": r.event_date.isoformat(),
                    }
                    for r in held.releases
                ],
                "principal_outstanding": _money(held.principal),
                "interest_accrued": _money(held.interest_rounded),
                "value_as_of": _money(held.balance),
            }
        )
    return Report(
        id=f"ARBP-{year}",
        kind="annual",
        event_date=as_of,
        due=date(year, *ANNUAL_DUE),
        entries=[h.block.seq for h in holdings],
        body={
            "filer": filer.to_dict(),
            "as_of": as_of.isoformat(),
            "holdings": items,
            "totals": {ccy: _money(v) for ccy, v in sorted(totals.items())},
        },
    )


def all_reports(ledger: Ledger, filer: Filer, *, today: date) -> list[Report]:
    """Every report the ledger calls for up to ``today``, earliest due first.

    Annual reports are listed for each year whose 30 June has passed (or is today) and on which
    something was blocked.
    """
    reports: list[Report] = []
    for entry in ledger.entries():
        if entry.event_date > today:
            continue
        if entry.kind == "block":
            reports.append(blocked_report(entry, filer))
        elif entry.kind == "reject":
            reports.append(rejected_report(entry, filer))
    blocks = ledger.entries("block")
    if blocks:
        for year in range(min(b.event_date for b in blocks).year, today.year + 1):
            if date(year, *ANNUAL_AS_OF) <= today and ledger.holdings(date(year, *ANNUAL_AS_OF)):
                reports.append(annual_report(ledger, year, filer))
    reports.sort(key=lambda r: (r.due, r.id))
    return reports


def due_reports(ledger: Ledger, filer: Filer, *, today: date, since: date | None = None) -> list[Report]:
    """Reports due on or after ``since`` (default: all), earliest first; see :func:`all_reports`."""
    return [r for r in all_reports(ledger, filer, today=today) if since is None or r.due >= since]


def find_report(ledger: Ledger, filer: Filer, report_id: str, *, today: date) -> Report:
    """The report ``report_id`` as :func:`all_reports` lists it on ``today``, or :class:`NotFound`."""
    for report in all_reports(ledger, filer, today=today):
        if report.id == report_id:
            return report
    raise NotFound(f"no report {report_id!r}; `clearance reports due` (or GET /v1/reports) lists them")


def to_json(report: Report) -> bytes:
    return orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


def _lines(data: Any, indent: int = 0) -> list[str]:
    pad = "  " * indent
    out: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            label = key.replace("_", " ")
            if isinstance(value, dict | list) and value:
                out.append(f"{pad}{label}:")
                out.extend(_lines(value, indent + 1))
            else:
                out.append(f"{pad}{label}: {'' if value is None or value == [] or value == {} else value}")
    elif isinstance(data, list):
        for i, value in enumerate(data, 1):
            if isinstance(value, dict | list):
                out.append(f"{pad}[{i}]")
                out.extend(_lines(value, indent + 1))
            else:
                out.append(f"{pad}- {value}")
    else:
        out.append(f"{pad}{data}")
    return out


def to_pdf(report: Report) -> bytes:
    """The report as a plain, text-only PDF (title, due date, then every field)."""
    header = [
        f"Report id: {report.id}",
        f"Event date: {report.event_date.isoformat()}    Due: {report.due.isoformat()}",
        "Filed with: U.S. Department of the Treasury, Office of Foreign Assets Control",
        "",
    ]
    return render_pdf(report.title, header + _lines(report.body))
