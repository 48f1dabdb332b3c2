"""The record of every screening call (append-only, hash-chained) and the API keys that made them."""

from __future__ import annotations

from pathlib import Path

from clearance.audit.keys import ROLES, ApiKey, KeyStore
from clearance.audit.log import AuditLog, AuditRecord, AuditWriter, StoredRecord, VerifyReport
from clearance.settings import Settings


def audit_path(settings: Settings) -> Path:
    """The audit log's database file under the home folder."""
    return settings.home / "audit.sqlite3"


def keys_path(settings: Settings) -> Path:
    """The API keys' database file under the home folder."""
    return settings.home / "keys.sqlite3"


__all__ = [
    "ROLES",
    "ApiKey",
    "AuditLog",
    "AuditRecord",
    "AuditWriter",
    "KeyStore",
    "StoredRecord",
    "VerifyReport",
    "audit_path",
    "keys_path",
]
