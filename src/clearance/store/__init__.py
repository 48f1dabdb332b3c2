"""Versioned list storage behind one interface (:class:`Store`)."""

from __future__ import annotations

from clearance.settings import Settings
from clearance.store.base import EntityChange, EntityHistory, HistoryEvent, ListDiff, ListVersion, Store


def open_store(settings: Settings) -> Store:
    """The store configured by ``settings``: SQLite under the home folder."""
    from clearance.store.sqlite import SQLiteStore

    return SQLiteStore(settings.database_path)


__all__ = [
    "EntityChange",
    "EntityHistory",
    "HistoryEvent",
    "ListDiff",
    "ListVersion",
    "Store",
    "open_store",
]
