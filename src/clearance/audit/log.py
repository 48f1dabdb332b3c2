"""The audit log: one durable, append-only, hash-chained record per screening call.

Each record says who screened what, when, against which list versions, with which matcher version and
threshold, and what came back, so that a decision can be reproduced years later. Records are written to
SQLite in WAL mode with ``synchronous=FULL`` and committed before the caller is answered, so an
acknowledged request survives a crash or a power cut.

Tamper evidence: record *n* stores ``hash = sha256(hash of record n-1, header, body)``. Changing,
inserting or removing a record in the middle breaks the chain, which :meth:`AuditLog.verify` detects.
Cutting records off the end is only detectable against a head (``seq``, ``hash``) kept elsewhere:
:meth:`AuditLog.head` gives it, and ``verify(expected_head=...)`` checks it. There is no update or delete
path in this module, and triggers make the database itself refuse ``UPDATE`` and ``DELETE``.

:class:`AuditWriter` batches records that arrive together into one transaction (group commit): one
``fsync`` then acknowledges many requests, which is what lets the service be durable *and* fast.
"""

from __future__ import annotations

import asyncio
import hashlib
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from clearance.errors import StoreError
from clearance.store.sqlite_util import connect

GENESIS = "0" * 64
#: Seconds a writer waits for another process to release the audit log before giving up.
BUSY_TIMEOUT = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_records (
    seq INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL UNIQUE,
    recorded_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    body BLOB NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_records_no_delete BEFORE DELETE ON audit_records
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


@dataclass(slots=True)
class AuditRecord:
    """A record to append. ``payload`` is plain JSON data: query, list versions, matcher, result."""

    request_id: str
    actor: str
    action: str
    payload: dict[str, Any]
    recorded_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="microseconds"))

    def encoded(self) -> EncodedRecord:
        """The record as the log stores it (raises for a payload that is not JSON data)."""
        return EncodedRecord(
            self.request_id, self.recorded_at, self.actor, self.action, encode_payload(self.payload)
        )


@dataclass(slots=True, frozen=True)
class EncodedRecord:
    """A record ready to append: its header and its canonical JSON body (:func:`encode_payload`)."""

    request_id: str
    recorded_at: str
    actor: str
    action: str
    body: bytes


@dataclass(slots=True, frozen=True)
class StoredRecord:
    seq: int
    request_id: str
    recorded_at: str
    actor: str
    action: str
    body: bytes
    prev_hash: str
    hash: str

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = orjson.loads(self.body)
        return data


@dataclass(slots=True)
class VerifyReport:
    """What :meth:`AuditLog.verify` found. ``ok`` is False from the first broken record on."""

    ok: bool
    records: int
    head_seq: int
    head_hash: str
    problems: list[str] = field(default_factory=list)


def record_hash(
    prev_hash: str, seq: int, request_id: str, recorded_at: str, actor: str, action: str, body: bytes
) -> str:
    """The chain link: a digest of the previous record's hash, this record's header and its body."""
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(orjson.dumps([seq, request_id, recorded_at, actor, action]))
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


def encode_payload(payload: dict[str, Any]) -> bytes:
    """Canonical JSON: sorted keys, so the bytes (and the hash) depend only on the content."""
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


class AuditLog:
    """The audit log database. Safe to share between threads (calls are serialised by a lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = connect(self.path, durable=True)
        self._db.execute("PRAGMA busy_timeout = 0")  # writers retry themselves: see _begin_immediate
        try:
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the audit log: {exc}") from exc

    def append(self, records: Sequence[AuditRecord]) -> list[int]:
        """Append ``records`` in one durable transaction; returns their sequence numbers.

        When this returns, the records are on disk. Nothing is written when it raises.
        """
        return self.append_encoded([rec.encoded() for rec in records])

    def append_encoded(self, records: Sequence[EncodedRecord]) -> list[int]:
        """:meth:`append` for records already encoded."""
        if not records:
            return []
        with self._lock:
            db = self._db
            self._begin_immediate()
            try:
                # read the head inside the write transaction: another process may have appended
                row = db.execute("SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (row[0], row[1]) if row else (0, GENESIS)
                rows = []
                seqs = []
                for rec in records:
                    seq += 1
                    digest = record_hash(
                        prev, seq, rec.request_id, rec.recorded_at, rec.actor, rec.action, rec.body
                    )
                    rows.append(
                        (seq, rec.request_id, rec.recorded_at, rec.actor, rec.action, rec.body, prev, digest)
                    )
                    seqs.append(seq)
                    prev = digest
                db.executemany("INSERT INTO audit_records VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return seqs

    def _begin_immediate(self) -> None:
        """Take the write lock, retrying every fraction of a millisecond while another process holds it.

        SQLite's own busy handler sleeps 1, 2, 5, 10, ... ms between tries: with several server workers
        appending, that sleep, not the commit, would set every answer's latency. A writer holds the lock
        for one commit (well under a millisecond plus the fsync), so short tries find it free soon.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT
        pause = 0.0001
        while True:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"{self.path}: the audit log stayed locked for {BUSY_TIMEOUT:g} s"
                    ) from exc
            time.sleep(pause)
            pause = min(pause * 1.5, 0.002)

    def get(self, request_id: str) -> StoredRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM audit_records WHERE request_id = ?", (request_id,)
            ).fetchone()
        return StoredRecord(*row) if row else None

    def request_ids(self) -> set[str]:
        with self._lock:
            return {r[0] for r in self._db.execute("SELECT request_id FROM audit_records")}

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM audit_records").fetchone()[0])

    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last record (``(0, GENESIS)`` when empty): publish it to anchor the log."""
        with self._lock:
            row = self._db.execute("SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS)

    def records(self, after_seq: int = 0) -> Iterator[StoredRecord]:
        """Records after ``after_seq``, in order (read through a separate connection, in one snapshot)."""
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            db.execute("BEGIN")
            for row in db.execute("SELECT * FROM audit_records WHERE seq > ? ORDER BY seq", (after_seq,)):
                yield StoredRecord(*row)
        finally:
            db.close()

    def verify(self, expected_head: tuple[int, str] | None = None) -> VerifyReport:
        """Recompute the chain. Reports the first record whose link or content does not check out."""
        prev, expected_seq, count = GENESIS, 1, 0
        problems: list[str] = []
        for rec in self.records():
            count += 1
            if rec.seq != expected_seq:
                problems.append(f"record {expected_seq}: missing (next present is {rec.seq})")
                break
            if rec.prev_hash != prev:
                problems.append(f"record {rec.seq}: does not link to record {rec.seq - 1}")
                break
            digest = record_hash(
                prev, rec.seq, rec.request_id, rec.recorded_at, rec.actor, rec.action, rec.body
            )
            if digest != rec.hash:
                problems.append(f"record {rec.seq}: content does not match its hash (altered)")
                break
            prev, expected_seq = rec.hash, expected_seq + 1
        head_seq = expected_seq - 1
        if not problems and expected_head is not None:
            seq, digest = expected_head
            if head_seq < seq:
                problems.append(f"records after {head_seq} are missing: the anchored head is record {seq}")
            elif self._hash_at(seq) != digest:
                problems.append(f"record {seq}: hash differs from the anchored head")
        return VerifyReport(
            ok=not problems, records=count, head_seq=head_seq, head_hash=prev, problems=problems
        )

    def _hash_at(self, seq: int) -> str | None:
        if seq == 0:
            return GENESIS
        with self._lock:
            row = self._db.execute("SELECT hash FROM audit_records WHERE seq = ?", (seq,)).fetchone()
        return str(row[0]) if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()


Callback = Callable[[int | None, BaseException | None], None]
_STOP = object()


def write_batch(log: AuditLog, records: Sequence[EncodedRecord]) -> list[int | BaseException]:
    """Append ``records`` in one transaction (group commit) and give each its sequence number, or the
    exception that kept it out of the log: when the batch fails, its records are written one by one so
    one bad record does not fail the others."""
    try:
        return list(log.append_encoded(records))
    except BaseException as exc:  # noqa: BLE001 - handed to the waiting callers
        if len(records) == 1:
            return [exc]
    out: list[int | BaseException] = []
    for rec in records:
        try:
            (seq,) = log.append_encoded([rec])
        except BaseException as one_exc:  # noqa: BLE001
            out.append(one_exc)
        else:
            out.append(seq)
    return out


class AuditWriter:
    """A background thread that appends records in batches (group commit), for a process that writes
    the audit log itself (:class:`clearance.audit.channel.AuditChannel` sends them to a writer process).

    :meth:`write` (on an event loop) or :meth:`submit` (a callback) queue a record; it is answered with
    the record's sequence number once it is durable, or with the exception that prevented it (then it
    was not written).
    """

    def __init__(self, log: AuditLog, max_batch: int = 1000) -> None:
        self.log = log
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self.batches = 0
        self.written = 0
        self.on_batch: Callable[[int, float], None] | None = None
        #: Returns how many more records are about to be submitted (requests being screened). While it
        #: is positive, the writer waits up to ``max_delay`` seconds for them, so one fsync covers more
        #: records (PostgreSQL's commit_delay). ``None``: never wait.
        self.pending: Callable[[], int] | None = None
        self.max_delay = 0.002

    def start(self) -> None:
        self._thread.start()

    def submit(self, record: AuditRecord, callback: Callback) -> None:
        """Queue ``record``; ``callback`` runs on the writer thread. Raises for a payload that is not
        JSON data."""
        self._queue.put((record.encoded(), callback))

    async def write(self, record: AuditRecord) -> int:
        """Queue ``record`` and wait (on the running event loop) until it is durable; its sequence number."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()

        def resolve(seq: int | None, exc: BaseException | None) -> None:
            if not future.done():
                if exc is not None:
                    future.set_exception(exc)
                else:
                    future.set_result(seq or 0)

        def done(seq: int | None, exc: BaseException | None) -> None:
            loop.call_soon_threadsafe(resolve, seq, exc)

        self.submit(record, done)
        return await future

    def stop(self) -> None:
        """Write what is queued, then stop."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    def _worth_waiting(self, batch: list[tuple[EncodedRecord, Callback]]) -> bool:
        pending = self.pending() if self.pending is not None else 0
        return bool(batch) and pending > 0

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            batch: list[tuple[EncodedRecord, Callback]] = []
            waited = 0.0
            while True:
                if item is None:
                    pass
                elif item is _STOP:
                    stopping = True
                else:
                    batch.append(item)
                if len(batch) >= self.max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    if stopping or not self._worth_waiting(batch):
                        break
                    try:
                        item = self._queue.get(timeout=self.max_delay / 4)
                    except queue.Empty:
                        waited += self.max_delay / 4
                        item = None
                    if item is None:
                        if waited >= self.max_delay:
                            break
                        continue
            if not batch:
                continue
            started = time.perf_counter()
            results = write_batch(self.log, [rec for rec, _ in batch])
            written = sum(1 for r in results if not isinstance(r, BaseException))
            self.batches += 1
            self.written += written
            if self.on_batch is not None and written == len(batch):
                self.on_batch(len(batch), time.perf_counter() - started)
            for (_, callback), result in zip(batch, results, strict=True):
                if isinstance(result, BaseException):
                    callback(None, result)
                else:
                    callback(result, None)
