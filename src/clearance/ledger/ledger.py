"""The blocked-property ledger: what was blocked, for whom, under which program, and what became of it.

Every fact is an *entry* appended to ``ledger_entries`` (its own tables in ``Settings.database_path``):

- ``block``: funds were blocked. Owner (the blocked person with an interest), programs, amount,
  currency, the day it was blocked, the message that caused it (id, kind, SHA-256 of the raw bytes,
  which are kept in ``ledger_messages``), and the annual interest rate the blocked account earns.
- ``release``: some or all of a blocked item was released. A release must name the license that
  authorizes it (``license_id``); it references the block entry it releases (``ref``).
- ``reject``: a transaction was rejected (prohibited, no blocked interest). No property is held; the
  entry exists so the Report of Rejected Transactions can be built from the ledger.

Entries are never edited or deleted: SQLite triggers refuse ``UPDATE`` and ``DELETE`` on every ledger
table, and each entry stores ``hash = sha256(previous hash, canonical JSON of the entry)`` so a change
made behind the database's back (or a removed entry) breaks the chain, which :meth:`Ledger.verify`
reports.

Malformed payment messages are kept, with the reason they were refused, in ``rejected_messages``
(same protections): :meth:`Ledger.record_malformed`.

Interest convention (31 CFR 501.603 requires blocked funds to be held in an interest-bearing account
at a commercially reasonable rate): simple interest, accrued daily on the outstanding principal at
``annual_rate / 365`` per calendar day (actual/365 fixed), from the day after the funds were blocked
up to and including the as-of day; no compounding. The rate is recorded on the block entry (default
:data:`DEFAULT_ANNUAL_RATE`, overridable per entry). Amounts are exact decimals; accrued interest is
rounded half-even to the currency's minor unit (cents) only when shown.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import orjson

from clearance.errors import ClearanceError
from clearance.store.sqlite_util import DurableDatabase

GENESIS = "0" * 64

#: Annual rate credited on blocked funds unless a block entry states another: a commercially
#: reasonable rate for a USD interest-bearing deposit (set it to your bank's rate with ``annual_rate``).
DEFAULT_ANNUAL_RATE = Decimal("0.0100")
DAYS_IN_YEAR = Decimal(365)
CENT = Decimal("0.01")

KINDS = ("block", "release", "reject")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger_entries (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('block', 'release', 'reject')),
    ref INTEGER REFERENCES ledger_entries(seq),
    event_date TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    owner TEXT NOT NULL,
    owner_entity_id TEXT,
    programs TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    annual_rate TEXT,
    license_id TEXT,
    message_id TEXT,
    message_kind TEXT,
    message_sha256 TEXT,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    CHECK (kind != 'release' OR (license_id IS NOT NULL AND license_id != '' AND ref IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS ledger_entries_ref ON ledger_entries(ref);
CREATE TABLE IF NOT EXISTS ledger_messages (
    sha256 TEXT PRIMARY KEY,
    message_id TEXT,
    kind TEXT,
    received_at TEXT NOT NULL,
    raw BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected_messages (
    seq INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    source TEXT,
    sha256 TEXT NOT NULL,
    reason TEXT NOT NULL,
    field TEXT,
    line INTEGER,
    raw BLOB NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
"""
_TRIGGERS = "".join(
    f"""
CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only: add an entry instead'); END;"""
    for table in ("ledger_entries", "ledger_messages", "rejected_messages")
    for op in ("UPDATE", "DELETE")
)
MIGRATIONS = [_SCHEMA + _TRIGGERS]


class LedgerError(ClearanceError):
    """The ledger refused an operation (release without license, over-release) or failed verification."""


@dataclass(slots=True, frozen=True)
class LedgerEntry:
    seq: int
    kind: str
    ref: int | None
    event_date: date
    recorded_at: datetime
    owner: str
    owner_entity_id: str | None
    programs: tuple[str, ...]
    amount: Decimal
    currency: str
    annual_rate: Decimal | None
    license_id: str | None
    message_id: str | None
    message_kind: str | None
    message_sha256: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "ref": self.ref,
            "event_date": self.event_date.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "owner": self.owner,
            "owner_entity_id": self.owner_entity_id,
            "programs": list(self.programs),
            "amount": str(self.amount),
            "currency": self.currency,
            "annual_rate": str(self.annual_rate) if self.annual_rate is not None else None,
            "license_id": self.license_id,
            "message_id": self.message_id,
            "message_kind": self.message_kind,
            "message_sha256": self.message_sha256,
            "details": self.details,
            "hash": self.hash,
        }


@dataclass(slots=True)
class Holding:
    """A blocked item as of a day: principal still blocked, interest accrued, the releases so far."""

    block: LedgerEntry
    as_of: date
    principal: Decimal
    interest: Decimal
    releases: list[LedgerEntry] = field(default_factory=list)

    @property
    def interest_rounded(self) -> Decimal:
        return self.interest.quantize(CENT, rounding=ROUND_HALF_EVEN)

    @property
    def balance(self) -> Decimal:
        """Principal still blocked plus interest accrued (rounded to cents)."""
        return self.principal + self.interest_rounded

    def to_dict(self) -> dict[str, Any]:
        return {
            "block": self.block.to_dict(),
            "as_of": self.as_of.isoformat(),
            "principal": str(self.principal),
            "interest": str(self.interest_rounded),
            "balance": str(self.balance),
            "releases": [r.seq for r in self.releases],
        }


@dataclass(slots=True, frozen=True)
class MalformedMessage:
    seq: int
    received_at: datetime
    source: str | None
    sha256: str
    reason: str
    field: str | None
    line: int | None
    raw: bytes


def accrued_interest(principal: Decimal, annual_rate: Decimal, start: date, end: date) -> Decimal:
    """Simple interest on ``principal`` for each calendar day after ``start`` up to ``end`` (actual/365)."""
    days = (end - start).days
    if days <= 0 or principal <= 0:
        return Decimal(0)
    return principal * annual_rate * Decimal(days) / DAYS_IN_YEAR


def _canonical(fields: dict[str, Any]) -> bytes:
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def _chain(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + _canonical(fields)).hexdigest()


_ENTRY_COLUMNS = (
    "kind",
    "ref",
    "event_date",
    "recorded_at",
    "owner",
    "owner_entity_id",
    "programs",
    "amount",
    "currency",
    "annual_rate",
    "license_id",
    "message_id",
    "message_kind",
    "message_sha256",
    "details",
)


class Ledger(DurableDatabase):
    """The append-only blocked-property ledger in one SQLite file (shared with the rest of Clearance)."""

    migrations = MIGRATIONS
    migration_table = "ledger_migrations"

    # -- appends ---------------------------------------------------------------------------------

    def block(
        self,
        *,
        owner: str,
        amount: Decimal,
        currency: str,
        blocked_on: date,
        programs: Sequence[str],
        owner_entity_id: str | None = None,
        message_id: str | None = None,
        message_kind: str | None = None,
        raw_message: bytes | None = None,
        annual_rate: Decimal | None = None,
        details: dict[str, Any] | None = None,
    ) -> LedgerEntry:
        """Record blocked funds; ``raw_message`` is kept (once) and referenced by its SHA-256."""
        if amount <= 0:
            raise LedgerError(f"a blocked amount must be positive, not {amount}")
        rate = DEFAULT_ANNUAL_RATE if annual_rate is None else annual_rate
        if rate < 0:
            raise LedgerError(f"interest rate {rate} must not be negative")
        return self._append(
            kind="block",
            ref=None,
            event_date=blocked_on,
            owner=owner,
            owner_entity_id=owner_entity_id,
            programs=programs,
            amount=amount,
            currency=currency,
            annual_rate=rate,
            license_id=None,
            message_id=message_id,
            message_kind=message_kind,
            raw_message=raw_message,
            details=details or {},
        )

    def release(
        self,
        block_seq: int,
        *,
        license_id: str,
        released_on: date,
        amount: Decimal | None = None,
        details: dict[str, Any] | None = None,
    ) -> LedgerEntry:
        """Release (part of) a blocked item under ``license_id``; the whole outstanding principal by default."""
        if not license_id or not license_id.strip():
            raise LedgerError("blocked property is released only under a license: give its license id")
        with self._write():
            block = self._entry(block_seq)
            if block is None or block.kind != "block":
                raise LedgerError(f"entry {block_seq} is not a block entry; nothing to release")
            if released_on < block.event_date:
                raise LedgerError(f"release date {released_on} is before the blocking ({block.event_date})")
            outstanding = block.amount - sum((r.amount for r in self._releases(block_seq)), Decimal(0))
            value = outstanding if amount is None else amount
            if value <= 0 or value > outstanding:
                raise LedgerError(
                    f"release of {value} {block.currency} is not within the outstanding {outstanding}"
                )
            return self._insert(
                kind="release",
                ref=block_seq,
                event_date=released_on,
                owner=block.owner,
                owner_entity_id=block.owner_entity_id,
                programs=block.programs,
                amount=value,
                currency=block.currency,
                annual_rate=None,
                license_id=license_id.strip(),
                message_id=block.message_id,
                message_kind=block.message_kind,
                message_sha256=block.message_sha256,
                details=details or {},
            )

    def reject(
        self,
        *,
        owner: str,
        amount: Decimal,
        currency: str,
        rejected_on: date,
        programs: Sequence[str],
        owner_entity_id: str | None = None,
        message_id: str | None = None,
        message_kind: str | None = None,
        raw_message: bytes | None = None,
        details: dict[str, Any] | None = None,
    ) -> LedgerEntry:
        """Record a rejected transaction (for the Report of Rejected Transactions)."""
        return self._append(
            kind="reject",
            ref=None,
            event_date=rejected_on,
            owner=owner,
            owner_entity_id=owner_entity_id,
            programs=programs,
            amount=amount,
            currency=currency,
            annual_rate=None,
            license_id=None,
            message_id=message_id,
            message_kind=message_kind,
            raw_message=raw_message,
            details=details or {},
        )

    def _append(self, *, raw_message: bytes | None, **fields: Any) -> LedgerEntry:
        with self._write():
            sha = self._keep_message(raw_message, fields["message_id"], fields["message_kind"])
            return self._insert(message_sha256=sha, **fields)

    def _keep_message(self, raw: bytes | None, message_id: str | None, kind: str | None) -> str | None:
        if raw is None:
            return None
        sha = hashlib.sha256(raw).hexdigest()
        self._db.execute(
            "INSERT OR IGNORE INTO ledger_messages (sha256, message_id, kind, received_at, raw) "
            "VALUES (?, ?, ?, ?, ?)",
            (sha, message_id, kind, datetime.now(UTC).isoformat(), raw),
        )
        return sha

    def _insert(self, **fields: Any) -> LedgerEntry:
        row = {
            "kind": fields["kind"],
            "ref": fields["ref"],
            "event_date": fields["event_date"].isoformat(),
            "recorded_at": datetime.now(UTC).isoformat(),
            "owner": fields["owner"],
            "owner_entity_id": fields["owner_entity_id"],
            "programs": orjson.dumps(list(fields["programs"])).decode(),
            "amount": str(fields["amount"]),
            "currency": fields["currency"],
            "annual_rate": str(fields["annual_rate"]) if fields["annual_rate"] is not None else None,
            "license_id": fields["license_id"],
            "message_id": fields["message_id"],
            "message_kind": fields["message_kind"],
            "message_sha256": fields["message_sha256"],
            "details": orjson.dumps(fields["details"], option=orjson.OPT_SORT_KEYS).decode(),
        }
        last = self._db.execute("SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1").fetchone()
        seq = (last[0] + 1) if last else 1
        prev = last[1] if last else GENESIS
        digest = _chain(prev, {"seq": seq, **row})
        self._db.execute(
            f"INSERT INTO ledger_entries (seq, {', '.join(_ENTRY_COLUMNS)}, prev_hash, hash) "
            f"VALUES ({', '.join('?' * (len(_ENTRY_COLUMNS) + 3))})",
            (seq, *(row[c] for c in _ENTRY_COLUMNS), prev, digest),
        )
        entry = self._entry(seq)
        assert entry is not None
        return entry

    def record_malformed(
        self,
        raw: bytes,
        *,
        reason: str,
        source: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> MalformedMessage:
        """Keep a message refused as malformed, with the reason and the element at fault."""
        with self._write():
            last = self._db.execute(
                "SELECT seq, hash FROM rejected_messages ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            seq = (last[0] + 1) if last else 1
            prev = last[1] if last else GENESIS
            received = datetime.now(UTC).isoformat()
            sha = hashlib.sha256(raw).hexdigest()
            row = {
                "seq": seq,
                "received_at": received,
                "source": source,
                "sha256": sha,
                "reason": reason,
                "field": field,
                "line": line,
            }
            digest = _chain(prev, row)
            self._db.execute(
                "INSERT INTO rejected_messages (seq, received_at, source, sha256, reason, field, line, raw, "
                "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, received, source, sha, reason, field, line, raw, prev, digest),
            )
        return MalformedMessage(seq, datetime.fromisoformat(received), source, sha, reason, field, line, raw)

    # -- reads -----------------------------------------------------------------------------------

    def _row(self, row: sqlite3.Row | tuple[Any, ...]) -> LedgerEntry:
        (
            seq,
            kind,
            ref,
            event_date,
            recorded_at,
            owner,
            owner_entity_id,
            programs,
            amount,
            currency,
            annual_rate,
            license_id,
            message_id,
            message_kind,
            message_sha256,
            details,
            prev_hash,
            digest,
        ) = row
        return LedgerEntry(
            seq=seq,
            kind=kind,
            ref=ref,
            event_date=date.fromisoformat(event_date),
            recorded_at=datetime.fromisoformat(recorded_at),
            owner=owner,
            owner_entity_id=owner_entity_id,
            programs=tuple(orjson.loads(programs)),
            amount=Decimal(amount),
            currency=currency,
            annual_rate=Decimal(annual_rate) if annual_rate is not None else None,
            license_id=license_id,
            message_id=message_id,
            message_kind=message_kind,
            message_sha256=message_sha256,
            details=orjson.loads(details),
            prev_hash=prev_hash,
            hash=digest,
        )

    _SELECT = f"SELECT seq, {', '.join(_ENTRY_COLUMNS)}, prev_hash, hash FROM ledger_entries"

    def _entry(self, seq: int) -> LedgerEntry | None:
        row = self._db.execute(f"{self._SELECT} WHERE seq = ?", (seq,)).fetchone()
        return self._row(row) if row else None

    def entry(self, seq: int) -> LedgerEntry:
        found = self._entry(seq)
        if found is None:
            raise LedgerError(f"no ledger entry {seq}")
        return found

    def _releases(self, block_seq: int) -> list[LedgerEntry]:
        rows = self._db.execute(
            f"{self._SELECT} WHERE kind = 'release' AND ref = ? ORDER BY seq", (block_seq,)
        )
        return [self._row(r) for r in rows]

    def entries(self, kind: str | None = None) -> list[LedgerEntry]:
        if kind is not None and kind not in KINDS:
            raise LedgerError(f"unknown entry kind {kind!r}: use one of {', '.join(KINDS)}")
        if kind is None:
            rows = self._db.execute(f"{self._SELECT} ORDER BY seq")
        else:
            rows = self._db.execute(f"{self._SELECT} WHERE kind = ? ORDER BY seq", (kind,))
        return [self._row(r) for r in rows]

    def message(self, sha256: str) -> bytes | None:
        row = self._db.execute("SELECT raw FROM ledger_messages WHERE sha256 = ?", (sha256,)).fetchone()
        return bytes(row[0]) if row else None

    def malformed_messages(self) -> list[MalformedMessage]:
        rows = self._db.execute(
            "SELECT seq, received_at, source, sha256, reason, field, line, raw FROM rejected_messages ORDER BY seq"
        )
        return [
            MalformedMessage(s, datetime.fromisoformat(r), src, sha, reason, f, line, bytes(raw))
            for s, r, src, sha, reason, f, line, raw in rows
        ]

    def holding(self, block: LedgerEntry, as_of: date) -> Holding:
        """What is held for ``block`` on ``as_of``: principal net of releases, simple daily interest."""
        releases = [r for r in self._releases(block.seq) if r.event_date <= as_of]
        rate = block.annual_rate or Decimal(0)
        principal = block.amount
        interest = Decimal(0)
        start = block.event_date
        for release in sorted(releases, key=lambda r: (r.event_date, r.seq)):
            interest += accrued_interest(principal, rate, start, release.event_date)
            principal -= release.amount
            start = release.event_date
        end = max(as_of, start)
        interest += accrued_interest(principal, rate, start, end)
        return Holding(block=block, as_of=as_of, principal=principal, interest=interest, releases=releases)

    def holdings(self, as_of: date, *, include_released: bool = False) -> list[Holding]:
        """Every item blocked on or before ``as_of`` (those fully released only when asked)."""
        out = []
        for block in self.entries("block"):
            if block.event_date > as_of:
                continue
            held = self.holding(block, as_of)
            if held.principal > 0 or include_released:
                out.append(held)
        return out

    # -- verification ----------------------------------------------------------------------------

    def verify(self) -> int:
        """Recompute both hash chains; the number of entries checked, or :class:`LedgerError`."""
        prev = GENESIS
        count = 0
        for row in self._db.execute(f"{self._SELECT} ORDER BY seq"):
            entry = self._row(row)
            fields = dict(zip(("seq", *_ENTRY_COLUMNS), row[: len(_ENTRY_COLUMNS) + 1], strict=True))
            if entry.prev_hash != prev or _chain(prev, fields) != entry.hash:
                raise LedgerError(f"ledger entry {entry.seq} does not match its hash chain: tampered with")
            prev = entry.hash
            count += 1
        prev = GENESIS
        for seq, received, source, sha, reason, fld, line, raw, prev_hash, digest in self._db.execute(
            "SELECT seq, received_at, source, sha256, reason, field, line, raw, prev_hash, hash "
            "FROM rejected_messages ORDER BY seq"
        ):
            row = {
                "seq": seq,
                "received_at": received,
                "source": source,
                "sha256": sha,
                "reason": reason,
                "field": fld,
                "line": line,
            }
            if prev_hash != prev or _chain(prev, row) != digest or hashlib.sha256(raw).hexdigest() != sha:
                raise LedgerError(f"rejected message {seq} does not match its hash chain: tampered with")
            prev = digest
            count += 1
        for sha, raw in self._db.execute("SELECT sha256, raw FROM ledger_messages"):
            if hashlib.sha256(raw).hexdigest() != sha:
                raise LedgerError(f"stored message {sha[:12]} does not match its digest: tampered with")
        return count


def open_ledger(database_path: str | Path) -> Ledger:
    return Ledger(database_path)


__all__ = [
    "DEFAULT_ANNUAL_RATE",
    "Holding",
    "Ledger",
    "LedgerEntry",
    "LedgerError",
    "MalformedMessage",
    "accrued_interest",
    "open_ledger",
]
