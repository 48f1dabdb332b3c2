"""Ledger entries as rows for people and the API: each with its status on a day and what it still holds.

Status of an entry on ``as_of``:

- a ``block`` entry is ``held`` (nothing released), ``partly-released`` or ``released`` (all its
  principal released under licenses on or before ``as_of``);
- a ``release`` entry is ``release``; a ``reject`` entry is ``rejected``.

Entries dated after ``as_of`` are left out.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from clearance.ledger.ledger import Ledger, LedgerError

STATUSES = ("held", "partly-released", "released", "rejected", "release")


def entry_views(ledger: Ledger, *, as_of: date, status: str | None = None) -> list[dict[str, Any]]:
    """Every entry dated on or before ``as_of`` (only those in ``status`` when given), oldest first."""
    if status is not None and status not in STATUSES:
        raise LedgerError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    rows = []
    for entry in ledger.entries():
        if entry.event_date > as_of:
            continue
        row = entry.to_dict()
        if entry.kind == "block":
            held = ledger.holding(entry, as_of)
            if held.principal == 0:
                row["status"] = "released"
            elif held.releases:
                row["status"] = "partly-released"
            else:
                row["status"] = "held"
            row["holding"] = held.to_dict()
            del row["holding"]["block"]
        else:
            row["status"] = "rejected" if entry.kind == "reject" else "release"
            row["holding"] = None
        if status is None or row["status"] == status:
            rows.append(row)
    return rows


__all__ = ["STATUSES", "entry_views"]
