"""The storage interface. Callers only ever see :class:`Store`; SQLite (and later PostgreSQL) sit behind it."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from clearance.model import Entity

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while a long operation runs."""


@dataclass(slots=True, frozen=True)
class ListVersion:
    """One imported snapshot of one list."""

    id: int
    list: str
    format: str
    files: tuple[str, ...]
    content_hash: str
    published: date
    published_from: str  # "file" (the file says so), "given" (--published) or "import" (import time)
    imported_at: datetime
    entity_count: int

    @property
    def label(self) -> str:
        return f"{self.list}@{self.published.isoformat()}#{self.id}"


@dataclass(slots=True, frozen=True)
class EntityChange:
    """How one entity differs between two versions: the properties whose values changed."""

    entity_id: str
    changed: dict[str, tuple[list[str], list[str]]]  # property -> (values before, values after)


@dataclass(slots=True)
class ListDiff:
    old: ListVersion
    new: ListVersion
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[EntityChange] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class HistoryEvent:
    """What happened to an entity in one version of its list: added, changed, unchanged or removed."""

    version: ListVersion
    event: str


@dataclass(slots=True)
class EntityHistory:
    entity_id: str
    events: list[HistoryEvent]

    @property
    def first_seen(self) -> ListVersion | None:
        present = [e.version for e in self.events if e.event != "removed"]
        return present[0] if present else None

    @property
    def last_seen(self) -> ListVersion | None:
        present = [e.version for e in self.events if e.event != "removed"]
        return present[-1] if present else None

    @property
    def changes(self) -> list[HistoryEvent]:
        return [e for e in self.events if e.event in ("added", "changed", "removed")]


class Store(abc.ABC):
    """Versioned list storage. Every method is safe to call from several processes."""

    @abc.abstractmethod
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
        """Store a new version atomically; returns it and whether it is new.

        If a version of ``list_name`` with the same ``content_hash`` exists, nothing changes and that
        version is returned with ``False``. A failure part-way leaves the store as it was.
        """

    @abc.abstractmethod
    def lists(self) -> list[str]:
        """Names of the lists that have at least one version."""

    @abc.abstractmethod
    def versions(self, list_name: str) -> list[ListVersion]:
        """All versions of a list, oldest publication first."""

    @abc.abstractmethod
    def version(self, version_id: int) -> ListVersion:
        """A version by its id; :class:`~clearance.errors.NotFound` if there is none."""

    def active_version(self, list_name: str, as_of: date | None = None) -> ListVersion | None:
        """The version published last on or before ``as_of`` (today's newest when ``None``)."""
        candidates = [v for v in self.versions(list_name) if as_of is None or v.published <= as_of]
        return candidates[-1] if candidates else None

    def active_versions(
        self, lists: Sequence[str] | None = None, as_of: date | None = None
    ) -> list[ListVersion]:
        """The active version of each list (all lists when ``lists`` is ``None``)."""
        out = []
        for name in lists if lists is not None else self.lists():
            version = self.active_version(name, as_of)
            if version is not None:
                out.append(version)
        return out

    @abc.abstractmethod
    def entities(self, version_id: int) -> Iterator[Entity]:
        """Every entity of a version, in id order."""

    @abc.abstractmethod
    def entity(self, entity_id: str, version_id: int) -> Entity | None:
        """One entity as a given version states it, or ``None`` when that version lacks it."""

    @abc.abstractmethod
    def entity_hashes(self, version_id: int) -> dict[str, str]:
        """``entity id -> content hash`` for a version: the cheap form diffs are computed from."""

    def diff(self, old: ListVersion, new: ListVersion) -> ListDiff:
        """Entities added, removed and changed from ``old`` to ``new``, with the properties that changed."""
        before, after = self.entity_hashes(old.id), self.entity_hashes(new.id)
        result = ListDiff(old=old, new=new)
        result.added = sorted(set(after) - set(before))
        result.removed = sorted(set(before) - set(after))
        for entity_id in sorted(set(before) & set(after)):
            if before[entity_id] == after[entity_id]:
                continue
            a, b = self.entity(entity_id, old.id), self.entity(entity_id, new.id)
            assert a is not None and b is not None
            result.changed.append(EntityChange(entity_id, property_changes(a, b)))
        return result

    @abc.abstractmethod
    def entity_history(self, entity_id: str) -> EntityHistory:
        """The entity's life across every version of its list, oldest first."""

    @abc.abstractmethod
    def close(self) -> None: ...


def property_changes(old: Entity, new: Entity) -> dict[str, tuple[list[str], list[str]]]:
    """Per property, the values before and after, for the properties whose value sets differ.

    A change of schema shows as the pseudo-property ``schema``; a change only in the raw source record
    (same parsed values) shows as ``raw``.
    """
    out: dict[str, tuple[list[str], list[str]]] = {}
    if old.schema != new.schema:
        out["schema"] = ([old.schema], [new.schema])
    for prop in sorted(set(old.properties) | set(new.properties)):
        a, b = old.get(prop), new.get(prop)
        if set(a) != set(b):
            out[prop] = (a, b)
    if not out and old.raw != new.raw:
        out["raw"] = ([], [])
    return out
