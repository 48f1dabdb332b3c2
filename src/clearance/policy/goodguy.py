"""Good-guy decisions: an analyst's "party X is not listed entity Y", with an expiry.

A :class:`GoodGuy` suppresses the alert for exactly one (party, listed entity) pair. It stops applying
when it expires, when it is revoked, or when the listed entity changes (its content hash at the time
of the decision is kept and compared with the entity as the list in force states it). It is keyed on
the listed entity's id, so it can never hide a match against another (new) listed entity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from clearance.policy.licenses import aware
from clearance.store.base import Store


@dataclass(slots=True, frozen=True)
class GoodGuy:
    party_key: str
    entity_id: str
    entity_hash: str
    analyst: str
    note: str
    created_at: datetime
    expires_at: datetime
    id: int | None = None
    revoked_at: datetime | None = None

    def status(self, at: datetime, current_hash: str | None) -> str:
        """``valid``, ``expired``, ``revoked``, ``not-yet`` or ``entity-changed`` at ``at``."""
        at = aware(at)
        if self.revoked_at is not None and aware(self.revoked_at) <= at:
            return "revoked"
        if at < aware(self.created_at):
            return "not-yet"
        if at >= aware(self.expires_at):
            return "expired"
        if current_hash is not None and current_hash != self.entity_hash:
            return "entity-changed"
        return "valid"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "party_key": self.party_key,
            "entity_id": self.entity_id,
            "entity_hash": self.entity_hash,
            "analyst": self.analyst,
            "note": self.note,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def new_good_guy(
    party_key: str,
    entity_id: str,
    entity_hash: str,
    *,
    analyst: str,
    note: str,
    expires_at: datetime,
    created_at: datetime | None = None,
) -> GoodGuy:
    created = aware(created_at) if created_at else datetime.now(UTC)
    expires = aware(expires_at)
    if expires <= created:
        from clearance.errors import ClearanceError

        raise ClearanceError(f"the good-guy decision would expire ({expires}) before it starts ({created})")
    return GoodGuy(party_key, entity_id, entity_hash, analyst, note, created, expires)


def good_guy_for(
    store: Store,
    party_key: str,
    entity_id: str,
    *,
    analyst: str,
    note: str,
    expires_at: datetime,
    at: datetime | None = None,
) -> GoodGuy:
    """A good-guy decision on ``entity_id`` as the list version in force at ``at`` (now) states it.

    Raises :class:`~clearance.errors.NotFound` when that version does not list the entity: there is
    nothing to clear.
    """
    from clearance.errors import NotFound
    from clearance.policy.licenses import eastern_day

    moment = aware(at) if at else datetime.now(UTC)
    list_name = entity_id.split(":", 1)[0]
    version = store.active_version(list_name, eastern_day(moment))
    entity = store.entity(entity_id, version.id) if version is not None else None
    if entity is None:
        raise NotFound(f"{entity_id} is not in the version of {list_name} in force on {eastern_day(moment)}")
    if not note.strip():
        from clearance.errors import ClearanceError

        raise ClearanceError("say why the party is not the listed entity (note)")
    return new_good_guy(
        party_key,
        entity_id,
        entity.content_hash(),
        analyst=analyst,
        note=note,
        expires_at=expires_at,
        created_at=moment,
    )


class GoodGuyBook:
    """Good-guy decisions indexed by (party key, listed entity id)."""

    def __init__(self, decisions: Iterable[GoodGuy] = ()) -> None:
        self._by_pair: dict[tuple[str, str], list[GoodGuy]] = {}
        for decision in decisions:
            self.add(decision)

    def add(self, decision: GoodGuy) -> None:
        self._by_pair.setdefault((decision.party_key, decision.entity_id), []).append(decision)

    def find(self, party_key: str, entity_id: str) -> list[GoodGuy]:
        """Every decision for the pair, newest first."""
        found = self._by_pair.get((party_key, entity_id), [])
        return sorted(found, key=lambda d: d.created_at, reverse=True)
