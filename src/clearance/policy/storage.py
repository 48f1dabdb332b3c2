"""Persistence of the policy layer's own tables (licenses, ownership links, good-guy decisions).

They live in the same SQLite file as the list store (``Settings.database_path``) but are migrated by
this module alone, recorded in ``policy_migrations``, so the list store's schema stays its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import orjson

from clearance.errors import NotFound
from clearance.policy.goodguy import GoodGuy
from clearance.policy.licenses import License, parse_license
from clearance.policy.ownership import OwnershipLink
from clearance.store.sqlite_util import connect, migrate

MIGRATIONS: list[str] = [
    """
    CREATE TABLE IF NOT EXISTS policy_licenses (
        id TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        origin TEXT,
        added_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS policy_ownership (
        id INTEGER PRIMARY KEY,
        owner TEXT NOT NULL,
        asset TEXT NOT NULL,
        percentage REAL NOT NULL,
        start_date TEXT NOT NULL DEFAULT '',
        end_date TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT '',
        owner_name TEXT,
        asset_name TEXT,
        imported_at TEXT NOT NULL,
        UNIQUE (owner, asset, start_date, source)
    );
    CREATE INDEX IF NOT EXISTS policy_ownership_asset ON policy_ownership (asset);
    CREATE INDEX IF NOT EXISTS policy_ownership_owner ON policy_ownership (owner);
    CREATE TABLE IF NOT EXISTS policy_good_guys (
        id INTEGER PRIMARY KEY,
        party_key TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        entity_hash TEXT NOT NULL,
        analyst TEXT NOT NULL,
        note TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE INDEX IF NOT EXISTS policy_good_guys_pair ON policy_good_guys (party_key, entity_id)
    """,
    # who revoked a good-guy decision (the row itself is never deleted)
    "ALTER TABLE policy_good_guys ADD COLUMN revoked_by TEXT",
]


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class PolicyStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = connect(self.path)
        migrate(self._db, MIGRATIONS, table="policy_migrations")

    def close(self) -> None:
        self._db.close()

    # -- licenses ------------------------------------------------------------------------------------

    def put_license(self, lic: License, origin: str | None = None) -> bool:
        """Store (or replace) a license; returns True when it is new."""
        existed = self._db.execute("SELECT 1 FROM policy_licenses WHERE id = ?", (lic.id,)).fetchone()
        self._db.execute(
            "INSERT OR REPLACE INTO policy_licenses (id, data, origin, added_at) VALUES (?, ?, ?, ?)",
            (lic.id, orjson.dumps(lic.to_dict()).decode(), origin, _now()),
        )
        return existed is None

    def licenses(self) -> list[License]:
        rows = self._db.execute("SELECT id, data FROM policy_licenses ORDER BY id").fetchall()
        return [parse_license(orjson.loads(data), f"database license {id_}") for id_, data in rows]

    def license(self, license_id: str) -> License:
        row = self._db.execute("SELECT data FROM policy_licenses WHERE id = ?", (license_id,)).fetchone()
        if row is None:
            raise NotFound(f"no stored license {license_id!r}; `clearance licenses list` shows them")
        return parse_license(orjson.loads(row[0]), f"database license {license_id}")

    # -- ownership -----------------------------------------------------------------------------------

    def add_links(self, links: Iterable[OwnershipLink]) -> int:
        """Store links (a link already stored with the same owner, asset, start and source is
        updated); returns how many were new."""
        now = _now()
        before = self._db.execute("SELECT count(*) FROM policy_ownership").fetchone()[0]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                "INSERT INTO policy_ownership (owner, asset, percentage, start_date, end_date, source,"
                " owner_name, asset_name, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (owner, asset, start_date, source) DO UPDATE SET percentage = excluded.percentage,"
                " end_date = excluded.end_date, owner_name = excluded.owner_name, asset_name = excluded.asset_name",
                [
                    (
                        lk.owner,
                        lk.asset,
                        lk.percentage,
                        lk.start.isoformat() if lk.start else "",
                        lk.end.isoformat() if lk.end else "",
                        lk.source or "",
                        lk.owner_name,
                        lk.asset_name,
                        now,
                    )
                    for lk in links
                ],
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        after = self._db.execute("SELECT count(*) FROM policy_ownership").fetchone()[0]
        return int(after) - int(before)

    def links(self) -> list[OwnershipLink]:
        rows = self._db.execute(
            "SELECT owner, asset, percentage, start_date, end_date, source, owner_name, asset_name"
            " FROM policy_ownership ORDER BY id"
        ).fetchall()
        return [
            OwnershipLink(
                owner=o,
                asset=a,
                percentage=float(p),
                start=date.fromisoformat(s) if s else None,
                end=date.fromisoformat(e) if e else None,
                source=src or None,
                owner_name=on,
                asset_name=an,
            )
            for o, a, p, s, e, src, on, an in rows
        ]

    # -- good-guy decisions --------------------------------------------------------------------------

    def add_good_guy(self, decision: GoodGuy) -> GoodGuy:
        cursor = self._db.execute(
            "INSERT INTO policy_good_guys (party_key, entity_id, entity_hash, analyst, note, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                decision.party_key,
                decision.entity_id,
                decision.entity_hash,
                decision.analyst,
                decision.note,
                decision.created_at.isoformat(),
                decision.expires_at.isoformat(),
            ),
        )
        assert cursor.lastrowid is not None
        return GoodGuy(
            decision.party_key,
            decision.entity_id,
            decision.entity_hash,
            decision.analyst,
            decision.note,
            decision.created_at,
            decision.expires_at,
            id=cursor.lastrowid,
        )

    def revoke_good_guy(self, decision_id: int, at: datetime | None = None, by: str | None = None) -> GoodGuy:
        """Mark a decision revoked (when and by whom); the row is kept. Revoking twice is an error."""
        when = (at or datetime.now(UTC)).isoformat()
        cursor = self._db.execute(
            "UPDATE policy_good_guys SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL",
            (when, by, decision_id),
        )
        if cursor.rowcount == 0:
            raise NotFound(f"no active good-guy decision #{decision_id}")
        return self.good_guy(decision_id)

    def good_guy(self, decision_id: int) -> GoodGuy:
        found = self._good_guys(" WHERE id = ?", (decision_id,))
        if not found:
            raise NotFound(f"no good-guy decision #{decision_id}; `clearance goodguys list --all` shows them")
        return found[0]

    def good_guys(self) -> list[GoodGuy]:
        return self._good_guys("", ())

    def _good_guys(self, where: str, args: tuple[object, ...]) -> list[GoodGuy]:
        rows = self._db.execute(
            "SELECT id, party_key, entity_id, entity_hash, analyst, note, created_at, expires_at, revoked_at,"
            f" revoked_by FROM policy_good_guys{where} ORDER BY id",
            args,
        ).fetchall()
        return [
            GoodGuy(
                party_key=pk,
                entity_id=eid,
                entity_hash=h,
                analyst=an,
                note=note,
                created_at=datetime.fromisoformat(c),
                expires_at=datetime.fromisoformat(x),
                id=int(i),
                revoked_at=datetime.fromisoformat(r) if r else None,
                revoked_by=rb,
            )
            for i, pk, eid, h, an, note, c, x, r, rb in rows
        ]
