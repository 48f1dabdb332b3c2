"""Good-guy decisions: an analyst's "party X is not listed entity Y", with an expiry.

A :class:`GoodGuy` suppresses the alert for exactly one (party, listed entity) pair. It stops applying
when it expires, when it is revoked, or when the listed entity changes (its content hash at the time
of the decision is kept and compared with the entity as the list in force states it). It is keyed on
the listed entity's id, so it can never hide a match against another (new) listed entity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from clearance.errors import ParseError
from clearance.policy.licenses import EASTERN, MAX_YEAR, MIN_YEAR, aware, eastern_day
from clearance.policy.types import Subject
from clearance.store.base import ListVersion, Store

#: What :func:`standing` says of each decision; only ``valid`` ones clear a match.
STATUSES = ("valid", "expired", "revoked", "not-yet", "entity-changed", "entity-not-listed")


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
    revoked_by: str | None = None

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
            "revoked_by": self.revoked_by,
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
        raise ParseError(
            f"{expires.isoformat()} is not after {created.isoformat()}: give an expiry in the future",
            path="good-guy decision",
            field="expires_at",
        )
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

    moment = aware(at) if at else datetime.now(UTC)
    list_name = entity_id.split(":", 1)[0]
    version = store.active_version(list_name, eastern_day(moment))
    entity = store.entity(entity_id, version.id) if version is not None else None
    if entity is None:
        raise NotFound(f"{entity_id} is not in the version of {list_name} in force on {eastern_day(moment)}")
    if not note.strip():
        raise ParseError("say why the party is not the listed entity", path="good-guy decision", field="note")
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


def party_key(customer_id: str | None = None, customer_name: str | None = None) -> str:
    """The key a decision on a customer is filed under, as :attr:`Subject.key` makes it when the
    customer is screened: the bank's own id as given, else ``name:`` and the normalised name.

    An id written ``name:<name>`` (as decisions show keys) is read as the name.
    """
    given = [v for v in (customer_id, customer_name) if v is not None and v.strip()]
    if len(given) != 1:
        raise ParseError(
            "give the customer's id or, when it has none, its name (one of them)",
            path="good-guy decision",
            field="customer_id",
        )
    if customer_id is not None and customer_id.strip():
        text = customer_id.strip()
        if not text.casefold().startswith("name:"):
            return text
        customer_name = text[len("name:") :]
    key = Subject(name=customer_name or "").key
    if key == "name:":
        raise ParseError("the customer's name is blank", path="good-guy decision", field="customer_name")
    return key


def parse_expiry(value: str | date | datetime) -> datetime:
    """When a decision stops applying. A day (``2026-06-30``) means through the end of that day in US
    Eastern time; a date-time without an offset is US Eastern wall-clock time."""
    day: date | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment, day = datetime.combine(value, time()), value
    else:
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ParseError(
                f"not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM): {value!r}",
                path="good-guy decision",
                field="expires_at",
            ) from None
        if len(text) == len("YYYY-MM-DD"):
            day = moment.date()
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ParseError(
            f"the year must lie between {MIN_YEAR} and {MAX_YEAR}",
            path="good-guy decision",
            field="expires_at",
        )
    if day is not None:  # through the end of that day
        return datetime.combine(day + timedelta(days=1), time(), tzinfo=EASTERN)
    return aware(moment)


def standing(
    decisions: Iterable[GoodGuy], store: Store, at: datetime | None = None
) -> list[tuple[GoodGuy, str]]:
    """Each decision with its status at ``at`` (now) against the list versions in force then: one of
    :data:`STATUSES`. ``entity-not-listed``: the version in force no longer lists the entity, so there
    is no match to clear (the decision applies again if the entity returns unchanged)."""
    moment = aware(at) if at else datetime.now(UTC)
    day = eastern_day(moment)
    versions: dict[str, ListVersion | None] = {}
    hashes: dict[str, str | None] = {}
    out: list[tuple[GoodGuy, str]] = []
    for decision in decisions:
        if decision.entity_id not in hashes:
            list_name = decision.entity_id.split(":", 1)[0]
            if list_name not in versions:
                versions[list_name] = store.active_version(list_name, day)
            version = versions[list_name]
            entity = store.entity(decision.entity_id, version.id) if version is not None else None
            hashes[decision.entity_id] = entity.content_hash() if entity is not None else None
        current = hashes[decision.entity_id]
        status = decision.status(moment, current)
        if status == "valid" and current is None:
            status = "entity-not-listed"
        out.append((decision, status))
    return out
