"""Filing OFAC reports: an append-only record of what was submitted when, and each report's status.

A *filing record* says report ``RBP-000001`` was submitted to OFAC on a day, by whom, under which OFAC
reference, and keeps the exact JSON of the report as filed (and its SHA-256). Records are only ever
added (table ``report_filings`` beside the ledger, in ``Settings.database_path``; SQLite triggers
refuse ``UPDATE`` and ``DELETE``, and a hash chain shows tampering behind their back):

- a second filing of a report already filed is refused unless it *corrects* the current record
  (``corrects=<seq>``): the new record then stands, the old one stays in the history;
- a filing recorded by mistake is *retracted* by a ``retracted`` record (``corrects=<seq>``): the report
  is outstanding again.

A report's status on a day (:func:`report_statuses`): ``filed`` (on what day, on time or late), else
``overdue`` once its due date has passed, else ``due`` (calendar and business days left).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson

from clearance.errors import ClearanceError
from clearance.reports.holidays import business_days_between
from clearance.reports.ofac import Report, to_json
from clearance.store.sqlite_util import DurableDatabase

GENESIS = "0" * 64
ACTIONS = ("filed", "retracted")
STATES = ("due", "overdue", "filed")
MAX_TEXT = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS report_filings (
    seq INTEGER PRIMARY KEY,
    report_id TEXT NOT NULL,
    report_kind TEXT NOT NULL CHECK (report_kind IN ('blocked', 'rejected', 'annual')),
    action TEXT NOT NULL CHECK (action IN ('filed', 'retracted')),
    filed_on TEXT,
    due TEXT NOT NULL,
    reference TEXT,
    filed_by TEXT NOT NULL,
    corrects INTEGER REFERENCES report_filings(seq),
    note TEXT,
    report_sha256 TEXT,
    report_json TEXT,
    recorded_at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    CHECK (action != 'filed' OR (filed_on IS NOT NULL AND report_json IS NOT NULL)),
    CHECK (action != 'retracted' OR corrects IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS report_filings_report ON report_filings(report_id, seq);
""" + "".join(
    f"""
CREATE TRIGGER IF NOT EXISTS report_filings_no_{op.lower()} BEFORE {op} ON report_filings
BEGIN SELECT RAISE(ABORT, 'report_filings is append-only: record a correction instead'); END;"""
    for op in ("UPDATE", "DELETE")
)
MIGRATIONS = [_SCHEMA]

_COLUMNS = (
    "report_id",
    "report_kind",
    "action",
    "filed_on",
    "due",
    "reference",
    "filed_by",
    "corrects",
    "note",
    "report_sha256",
    "report_json",
    "recorded_at",
)


class FilingError(ClearanceError):
    """A filing was refused (already filed, filed before the event or in the future, bad correction)."""


@dataclass(slots=True, frozen=True)
class Filing:
    seq: int
    report_id: str
    report_kind: str
    action: str  # filed | retracted
    filed_on: date | None
    due: date
    reference: str | None
    filed_by: str
    corrects: int | None
    note: str | None
    report_sha256: str | None
    recorded_at: datetime
    hash: str

    @property
    def late(self) -> bool:
        return self.filed_on is not None and self.filed_on > self.due

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "report_id": self.report_id,
            "report_kind": self.report_kind,
            "action": self.action,
            "filed_on": self.filed_on.isoformat() if self.filed_on else None,
            "due": self.due.isoformat(),
            "late": self.late if self.action == "filed" else None,
            "reference": self.reference,
            "filed_by": self.filed_by,
            "corrects": self.corrects,
            "note": self.note,
            "report_sha256": self.report_sha256,
            "recorded_at": self.recorded_at.isoformat(),
            "hash": self.hash,
        }


def _chain(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256(
        prev_hash.encode() + b"\n" + orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


def _text(value: str | None, name: str) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > MAX_TEXT:
        raise FilingError(f"{name} is {len(value)} characters; at most {MAX_TEXT}")
    return value.strip()


class FilingStore(DurableDatabase):
    """The append-only filing records, in the same SQLite file as the ledger (own migrations)."""

    migrations = MIGRATIONS
    migration_table = "report_filing_migrations"

    # -- appends ---------------------------------------------------------------------------------

    def file(
        self,
        report: Report,
        *,
        filed_on: date,
        filed_by: str,
        today: date,
        reference: str | None = None,
        corrects: int | None = None,
        note: str | None = None,
    ) -> Filing:
        """Record that ``report`` was submitted to OFAC on ``filed_on``; see the module notes."""
        by = _text(filed_by, "filed by")
        if by is None:
            raise FilingError("say who filed the report (--by NAME)")
        if filed_on > today:
            raise FilingError(
                f"filing date {filed_on} is in the future (today is {today}); record it once filed"
            )
        if filed_on < report.event_date:
            raise FilingError(
                f"filing date {filed_on} is before the report's event date {report.event_date}: "
                f"{report.id} could not have been filed then"
            )
        snapshot = to_json(report)
        with self._write():
            current = self._latest(report.id)
            self._check_correction(report.id, current, corrects, filing=True)
            return self._insert(
                report_id=report.id,
                report_kind=report.kind,
                action="filed",
                filed_on=filed_on.isoformat(),
                due=report.due.isoformat(),
                reference=_text(reference, "reference"),
                filed_by=by,
                corrects=corrects,
                note=_text(note, "note"),
                report_sha256=hashlib.sha256(snapshot).hexdigest(),
                report_json=snapshot.decode(),
            )

    def retract(self, report: Report, *, corrects: int, filed_by: str, note: str | None = None) -> Filing:
        """Record that filing ``corrects`` was entered by mistake: the report is outstanding again."""
        by = _text(filed_by, "filed by")
        if by is None:
            raise FilingError("say who retracts the filing (--by NAME)")
        with self._write():
            current = self._latest(report.id)
            self._check_correction(report.id, current, corrects, filing=False)
            return self._insert(
                report_id=report.id,
                report_kind=report.kind,
                action="retracted",
                filed_on=None,
                due=report.due.isoformat(),
                reference=None,
                filed_by=by,
                corrects=corrects,
                note=_text(note, "note"),
                report_sha256=None,
                report_json=None,
            )

    def _check_correction(
        self, report_id: str, current: Filing | None, corrects: int | None, *, filing: bool
    ) -> None:
        standing = current is not None and current.action == "filed"
        if corrects is None:
            if standing:
                assert current is not None and current.filed_on is not None
                raise FilingError(
                    f"{report_id} was already filed on {current.filed_on} (filing #{current.seq}); "
                    f"to correct that record, file again with --corrects {current.seq}"
                )
            return
        if current is None or current.seq != corrects:
            latest = f"its current record is #{current.seq}" if current else "it has no filing record"
            raise FilingError(f"filing #{corrects} is not the current record of {report_id} ({latest})")
        if not standing:
            raise FilingError(
                f"record #{corrects} of {report_id} is a retraction: "
                + ("record the filing without --corrects" if filing else "nothing stands to retract")
            )

    def _insert(self, **fields: Any) -> Filing:
        fields["recorded_at"] = datetime.now(UTC).isoformat()
        last = self._db.execute("SELECT seq, hash FROM report_filings ORDER BY seq DESC LIMIT 1").fetchone()
        seq = (last[0] + 1) if last else 1
        prev = last[1] if last else GENESIS
        digest = _chain(prev, {"seq": seq, **{c: fields[c] for c in _COLUMNS}})
        self._db.execute(
            f"INSERT INTO report_filings (seq, {', '.join(_COLUMNS)}, prev_hash, hash) "
            f"VALUES ({', '.join('?' * (len(_COLUMNS) + 3))})",
            (seq, *(fields[c] for c in _COLUMNS), prev, digest),
        )
        found = self._one("WHERE seq = ?", (seq,))
        assert found is not None
        return found

    # -- reads -----------------------------------------------------------------------------------

    _SELECT = (
        "SELECT seq, report_id, report_kind, action, filed_on, due, reference, filed_by, corrects, note, "
        "report_sha256, recorded_at, hash FROM report_filings"
    )

    @staticmethod
    def _row(row: tuple[Any, ...]) -> Filing:
        seq, rid, kind, action, filed_on, due, ref, by, corrects, note, sha, recorded, digest = row
        return Filing(
            seq=seq,
            report_id=rid,
            report_kind=kind,
            action=action,
            filed_on=date.fromisoformat(filed_on) if filed_on else None,
            due=date.fromisoformat(due),
            reference=ref,
            filed_by=by,
            corrects=corrects,
            note=note,
            report_sha256=sha,
            recorded_at=datetime.fromisoformat(recorded),
            hash=digest,
        )

    def _one(self, where: str, params: tuple[Any, ...]) -> Filing | None:
        row = self._db.execute(f"{self._SELECT} {where}", params).fetchone()
        return self._row(row) if row else None

    def _latest(self, report_id: str) -> Filing | None:
        return self._one("WHERE report_id = ? ORDER BY seq DESC LIMIT 1", (report_id,))

    def current(self, report_id: str) -> Filing | None:
        """The filing that stands for ``report_id`` (None when never filed or retracted)."""
        latest = self._latest(report_id)
        return latest if latest is not None and latest.action == "filed" else None

    def standing(self) -> dict[str, Filing]:
        """The standing filing of every report filed (and not retracted)."""
        out: dict[str, Filing] = {}
        for row in self._db.execute(f"{self._SELECT} ORDER BY seq"):
            record = self._row(row)
            if record.action == "filed":
                out[record.report_id] = record
            else:
                out.pop(record.report_id, None)
        return out

    def history(self, report_id: str | None = None) -> list[Filing]:
        if report_id is None:
            rows = self._db.execute(f"{self._SELECT} ORDER BY seq")
        else:
            rows = self._db.execute(f"{self._SELECT} WHERE report_id = ? ORDER BY seq", (report_id,))
        return [self._row(r) for r in rows]

    def snapshot(self, seq: int) -> bytes | None:
        """The report's JSON exactly as filed with record ``seq``."""
        row = self._db.execute("SELECT report_json FROM report_filings WHERE seq = ?", (seq,)).fetchone()
        return row[0].encode() if row and row[0] is not None else None

    def verify(self) -> int:
        """Recompute the hash chain (and each snapshot's digest); the number of records, or FilingError."""
        prev = GENESIS
        count = 0
        for row in self._db.execute(
            f"SELECT seq, {', '.join(_COLUMNS)}, prev_hash, hash FROM report_filings ORDER BY seq"
        ):
            fields = dict(zip(("seq", *_COLUMNS), row[: len(_COLUMNS) + 1], strict=True))
            prev_hash, digest = row[-2], row[-1]
            snapshot = fields["report_json"]
            if (
                prev_hash != prev
                or _chain(prev, fields) != digest
                or (
                    snapshot is not None
                    and hashlib.sha256(snapshot.encode()).hexdigest() != fields["report_sha256"]
                )
            ):
                raise FilingError(
                    f"filing record {fields['seq']} does not match its hash chain: tampered with"
                )
            prev = digest
            count += 1
        return count


# -- status --------------------------------------------------------------------------------------


def _days(n: int | None) -> str:
    return f"{n} day{'' if n == 1 else 's'}"


@dataclass(slots=True)
class ReportStatus:
    """Where a report stands on ``today``: due, overdue or filed."""

    report: Report
    today: date
    filing: Filing | None

    @property
    def state(self) -> str:
        if self.filing is not None:
            return "filed"
        return "overdue" if self.today > self.report.due else "due"

    @property
    def days_left(self) -> int | None:
        """Calendar days until the due date (None once filed or overdue)."""
        return (self.report.due - self.today).days if self.state == "due" else None

    @property
    def business_days_left(self) -> int | None:
        return business_days_between(self.today, self.report.due) if self.state == "due" else None

    @property
    def days_late(self) -> int | None:
        """Calendar days past the due date: overdue now, or filed late; None otherwise."""
        if self.filing is not None and self.filing.filed_on is not None:
            return (self.filing.filed_on - self.report.due).days if self.filing.late else None
        return (self.today - self.report.due).days if self.state == "overdue" else None

    def summary(self) -> str:
        """One phrase: ``due in 3 days (2 business days)``, ``OVERDUE by 2 days``, ``filed 2020-12-29 (on time)``."""
        if self.filing is not None and self.filing.filed_on is not None:
            when = f"late by {_days(self.days_late)}" if self.filing.late else "on time"
            ref = f", ref {self.filing.reference}" if self.filing.reference else ""
            return f"filed {self.filing.filed_on} ({when}{ref})"
        if self.state == "overdue":
            return f"OVERDUE by {_days(self.days_late)}"
        if self.days_left == 0:
            return "due today"
        return f"due in {_days(self.days_left)} ({self.business_days_left} business)"

    def to_dict(self) -> dict[str, Any]:
        r = self.report
        return {
            "id": r.id,
            "kind": r.kind,
            "title": r.title,
            "event_date": r.event_date.isoformat(),
            "due": r.due.isoformat(),
            "ledger_entries": list(r.entries),
            "state": self.state,
            "overdue": self.state == "overdue",
            "days_left": self.days_left,
            "business_days_left": self.business_days_left,
            "days_late": self.days_late,
            "filing": self.filing.to_dict() if self.filing else None,
            "summary": self.summary(),
        }


def report_statuses(
    reports: Iterable[Report], filings: FilingStore, *, today: date, outstanding: bool = False
) -> list[ReportStatus]:
    """Each report's status on ``today``; ``outstanding`` keeps only those not filed."""
    standing = filings.standing()
    out = [ReportStatus(report=r, today=today, filing=standing.get(r.id)) for r in reports]
    return [s for s in out if s.state != "filed"] if outstanding else out


__all__ = [
    "ACTIONS",
    "STATES",
    "Filing",
    "FilingError",
    "FilingStore",
    "ReportStatus",
    "report_statuses",
]
