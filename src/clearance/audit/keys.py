"""API keys: stored only as SHA-256 hashes, each with a role.

A key reads ``clr_<key id>_<secret>``. The key id is public (it names the caller in the audit log and in
``clearance keys list``); the secret is shown once, at creation, and only its hash is kept. Secrets are
32 random bytes, so a fast hash is enough: there is nothing to brute-force.

Roles are ordered; each includes the ones before it:

- ``screen``: screening (``/v1/screen``, ``/match``) and the list versions in force;
- ``analyst``: also entities, their history and list changes;
- ``admin``: also list updates (keys are managed through the CLI, which needs the home folder).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clearance.errors import ClearanceError, NotFound, StoreError
from clearance.store.sqlite_util import connect

ROLES = ("screen", "analyst", "admin")

_KEY_RE = re.compile(r"^clr_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
"""


def role_allows(role: str, needed: str) -> bool:
    """Whether a key with ``role`` may do what needs ``needed`` (roles include the lower ones)."""
    return ROLES.index(role) >= ROLES.index(needed)


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(slots=True, frozen=True)
class ApiKey:
    id: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def actor(self) -> str:
        """How the key is named in the audit log."""
        return f"key:{self.id}:{self.name}"


class KeyStore:
    """The keys database. ``authenticate`` is cheap: answers are cached until the database changes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = connect(self.path, durable=True)
        try:
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the keys database: {exc}") from exc
        self._cache: dict[str, ApiKey | None] = {}
        self._seen_version: tuple[int, ...] = ()

    def create(self, name: str, role: str) -> tuple[ApiKey, str]:
        """A new key; returns it and the full token, which is shown this once and never stored."""
        if role not in ROLES:
            raise ClearanceError(f"role {role!r}: choose one of {', '.join(ROLES)}")
        name = name.strip()
        if not name:
            raise ClearanceError("a key needs a name saying who or what uses it")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock:
            self._db.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, NULL)",
                (key_id, name, role, _hash_secret(secret), created),
            )
            self._cache.clear()
        return ApiKey(key_id, name, role, created, None), f"clr_{key_id}_{secret}"

    def list(self) -> list[ApiKey]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, name, role, created_at, revoked_at FROM api_keys ORDER BY created_at, id"
            ).fetchall()
        return [ApiKey(*row) for row in rows]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key by its id (``clr_<id>_...`` tokens are accepted too). Revoking twice is harmless."""
        match = _KEY_RE.match(key_id)
        key_id = match.group(1) if match else key_id.strip()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock:
            self._db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, key_id)
            )
            self._cache.clear()
            row = self._db.execute(
                "SELECT id, name, role, created_at, revoked_at FROM api_keys WHERE id = ?", (key_id,)
            ).fetchone()
        if row is None:
            raise NotFound(f"no API key with id {key_id!r}; `clearance keys list` shows them")
        return ApiKey(*row)

    def authenticate(self, token: str) -> ApiKey | None:
        """The active key ``token`` belongs to, or ``None`` (unknown, malformed, wrong secret, revoked)."""
        with self._lock:
            version = self._file_state()
            if version != self._seen_version:
                self._cache.clear()
                self._seen_version = version
            if token in self._cache:
                return self._cache[token]
            found = self._lookup(token)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[token] = found
            return found

    def _file_state(self) -> tuple[int, ...]:
        """Size and modification time of the database and its WAL: any commit, by any process,
        changes them. Two ``stat`` calls are far cheaper than a query on every request."""
        state: list[int] = []
        for suffix in ("", "-wal"):
            try:
                st = os.stat(f"{self.path}{suffix}")
            except FileNotFoundError:
                state += [0, 0]
            else:
                state += [st.st_mtime_ns, st.st_size]
        return tuple(state)

    def _lookup(self, token: str) -> ApiKey | None:
        match = _KEY_RE.match(token)
        if match is None:
            return None
        key_id, secret = match.groups()
        row = self._db.execute(
            "SELECT id, name, role, created_at, revoked_at, secret_hash FROM api_keys WHERE id = ?", (key_id,)
        ).fetchone()
        if row is None or row[4] is not None:
            return None
        if not hmac.compare_digest(row[5], _hash_secret(secret)):
            return None
        return ApiKey(*row[:5])

    def close(self) -> None:
        with self._lock:
            self._db.close()
