"""SQLite behind :class:`~clearance.store.base.Store`: the embedded default, one file under the home folder.

Entity bodies are stored once per distinct content (``entity_blobs``, keyed by hash) and each version
is a list of ``(entity id, hash)`` rows, so keeping every version costs little and diffs are cheap.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import orjson

from clearance.errors import NotFound, StoreError
from clearance.model import Entity, json_digest
from clearance.store.base import EntityHistory, HistoryEvent, ListVersion, Progress, Store
from clearance.store.sqlite_util import connect, migrate

#: Schema migrations, applied in order; each runs once and is recorded in ``schema_migrations``.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE list_versions (
        id INTEGER PRIMARY KEY,
        list TEXT NOT NULL,
        format TEXT NOT NULL,
        files TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        published TEXT NOT NULL,
        published_from TEXT NOT NULL,
        imported_at TEXT NOT NULL,
        entity_count INTEGER NOT NULL,
        UNIQUE (list, content_hash)
    );
    CREATE INDEX list_versions_published ON list_versions (list, published, id);
    CREATE TABLE entity_blobs (
        hash TEXT PRIMARY KEY,
        data BLOB NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE version_entities (
        version_id INTEGER NOT NULL REFERENCES list_versions (id),
        entity_id TEXT NOT NULL,
        hash TEXT NOT NULL REFERENCES entity_blobs (hash),
        PRIMARY KEY (version_id, entity_id)
    ) WITHOUT ROWID;
    CREATE INDEX version_entities_entity ON version_entities (entity_id, version_id);
    """,
]

_BATCH = 2000


class SQLiteStore(Store):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = connect(self.path)
        self.schema_version = migrate(self._db, MIGRATIONS, table="schema_migrations")

    def add_version(
        self,
        *,
        list_name: str,
        format: str,
        files: Sequence[str],
        content_hash: str,
        published: date,
        published_from: str,
        entities: Sequence[Entity],
        progress: Progress | None = None,
    ) -> tuple[ListVersion, bool]:
        db = self._db
        existing = db.execute(
            "SELECT * FROM list_versions WHERE list = ? AND content_hash = ?", (list_name, content_hash)
        ).fetchone()
        if existing:
            return _version(existing), False
        imported_at = datetime.now(UTC).replace(microsecond=0)
        total = len(entities)
        db.execute("BEGIN IMMEDIATE")
        try:
            cursor = db.execute(
                "INSERT INTO list_versions (list, format, files, content_hash, published, published_from,"
                " imported_at, entity_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    list_name,
                    format,
                    orjson.dumps(list(files)).decode(),
                    content_hash,
                    published.isoformat(),
                    published_from,
                    imported_at.isoformat(),
                    total,
                ),
            )
            version_id = cursor.lastrowid
            for start in range(0, total, _BATCH):
                chunk = entities[start : start + _BATCH]
                encoded = [e.to_json() for e in chunk]
                blobs = [(json_digest(data), data) for data in encoded]
                db.executemany("INSERT OR IGNORE INTO entity_blobs (hash, data) VALUES (?, ?)", blobs)
                db.executemany(
                    "INSERT INTO version_entities (version_id, entity_id, hash) VALUES (?, ?, ?)",
                    [(version_id, e.id, h) for e, (h, _) in zip(chunk, blobs, strict=True)],
                )
                if progress is not None:
                    progress(min(start + _BATCH, total), total)
            db.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            db.execute("ROLLBACK")
            raise StoreError(f"{list_name}: the list holds the same entity id twice ({exc})") from exc
        except BaseException:
            db.execute("ROLLBACK")
            raise
        assert version_id is not None
        return self.version(version_id), True

    def lists(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT DISTINCT list FROM list_versions ORDER BY list")]

    def versions(self, list_name: str) -> list[ListVersion]:
        rows = self._db.execute(
            "SELECT * FROM list_versions WHERE list = ? ORDER BY published, id", (list_name,)
        )
        return [_version(row) for row in rows]

    def version(self, version_id: int) -> ListVersion:
        row = self._db.execute("SELECT * FROM list_versions WHERE id = ?", (version_id,)).fetchone()
        if row is None:
            raise NotFound(f"no list version with id {version_id}; `clearance lists show` lists them")
        return _version(row)

    def entities(self, version_id: int) -> Iterator[Entity]:
        rows = self._db.execute(
            "SELECT b.data FROM version_entities v JOIN entity_blobs b ON b.hash = v.hash"
            " WHERE v.version_id = ? ORDER BY v.entity_id",
            (version_id,),
        )
        for (data,) in rows:
            yield Entity.from_dict(orjson.loads(data))

    def entity(self, entity_id: str, version_id: int) -> Entity | None:
        row = self._db.execute(
            "SELECT b.data FROM version_entities v JOIN entity_blobs b ON b.hash = v.hash"
            " WHERE v.version_id = ? AND v.entity_id = ?",
            (version_id, entity_id),
        ).fetchone()
        return Entity.from_dict(orjson.loads(row[0])) if row else None

    def entity_hashes(self, version_id: int) -> dict[str, str]:
        rows = self._db.execute(
            "SELECT entity_id, hash FROM version_entities WHERE version_id = ?", (version_id,)
        )
        return dict(rows.fetchall())

    def entity_history(self, entity_id: str) -> EntityHistory:
        list_name = entity_id.split(":", 1)[0]
        rows = self._db.execute(
            "SELECT v.*, ve.hash FROM list_versions v LEFT JOIN version_entities ve"
            " ON ve.version_id = v.id AND ve.entity_id = ? WHERE v.list = ? ORDER BY v.published, v.id",
            (entity_id, list_name),
        ).fetchall()
        events: list[HistoryEvent] = []
        previous: str | None = None
        for row in rows:
            version, digest = _version(row[:-1]), row[-1]
            if digest is None:
                if previous is not None:
                    events.append(HistoryEvent(version, "removed"))
            elif previous is None:
                events.append(HistoryEvent(version, "added"))
            elif digest != previous:
                events.append(HistoryEvent(version, "changed"))
            else:
                events.append(HistoryEvent(version, "unchanged"))
            previous = digest
        return EntityHistory(entity_id, events)

    def close(self) -> None:
        self._db.close()


def _version(row: Sequence[object]) -> ListVersion:
    (id_, list_, format_, files, content_hash, published, published_from, imported_at, count) = row
    return ListVersion(
        id=int(str(id_)),
        list=str(list_),
        format=str(format_),
        files=tuple(orjson.loads(str(files))),
        content_hash=str(content_hash),
        published=date.fromisoformat(str(published)),
        published_from=str(published_from),
        imported_at=datetime.fromisoformat(str(imported_at)),
        entity_count=int(str(count)),
    )
