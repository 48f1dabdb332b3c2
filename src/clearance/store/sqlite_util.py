"""Opening SQLite databases and migrating their schemata: one way, for every table family.

The list store, the policy tables, the ledger and the audit log each keep their own migration list
(and bookkeeping table), so each part owns its schema, but all open and migrate the same way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from clearance.errors import StoreError


def connect(path: str | Path, *, durable: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode with WAL; ``durable`` makes every commit reach the disk.

    Use ``durable`` for records that must survive a power cut once acknowledged (ledger, audit);
    the list store can rebuild from its files and uses the faster ``synchronous=NORMAL``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite3.connect(target, timeout=30, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        db.execute("PRAGMA foreign_keys=ON")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{target}: cannot open the database: {exc}") from exc
    return db


@contextmanager
def write_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One immediate transaction on an autocommit connection (:func:`connect`): appends from several
    processes are serialised, so a hash chain read and extended inside it stays one chain."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class DurableDatabase:
    """A SQLite file whose commits reach the disk, migrated on open; a context manager.

    Subclasses name their ``migrations`` and the ``migration_table`` that records them, and append in
    :meth:`_write` transactions (the ledger, the report filings).
    """

    migrations: Sequence[str] = ()
    migration_table = ""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = connect(self.path, durable=True)
        migrate(self._db, self.migrations, table=self.migration_table)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._db)


def migrate(db: sqlite3.Connection, migrations: Sequence[str], *, table: str) -> int:
    """Apply the scripts of ``migrations`` not yet recorded in ``table``; returns the schema version.

    Each script runs in its own transaction together with its bookkeeping row, so a failure leaves
    the previous schema in place. When several processes start at once, the loser of the race finds
    the migration recorded and moves on.
    """
    try:
        db.execute(f"CREATE TABLE IF NOT EXISTS {table} (version INTEGER PRIMARY KEY, applied_at TEXT)")
        for number, script in enumerate(migrations, start=1):
            if _applied(db, table, number):
                continue
            stamp = datetime.now(UTC).isoformat()
            try:
                db.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\n;"
                    f"INSERT INTO {table} (version, applied_at) VALUES ({number}, '{stamp}');\nCOMMIT;"
                )
            except sqlite3.DatabaseError:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                if not _applied(db, table, number):
                    raise
        row = db.execute(f"SELECT max(version) FROM {table}").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot migrate the database ({table}): {exc}") from exc
    return int(row[0] or 0)


def _applied(db: sqlite3.Connection, table: str, number: int) -> bool:
    return db.execute(f"SELECT 1 FROM {table} WHERE version = ?", (number,)).fetchone() is not None
