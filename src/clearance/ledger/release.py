"""Releasing blocked property, only under a license that authorizes it (31 CFR 501.603, 501.801).

:meth:`Ledger.release <clearance.ledger.ledger.Ledger.release>` refuses a release without a license id;
this module checks that the id names a real license (shipped or stored with ``clearance licenses add``)
and that the license *authorizes this release*:

- its ``transaction_types`` include :data:`RELEASE_TYPE` (``release``) or ``*``: a wind-down general
  license, for instance, does not authorize debiting a blocked account;
- its targets reach the blocked item: the owner's listed entity id (when the license names entities)
  and one of the item's programs (a program's aliases count: ``VENEZUELA-EO13692`` is ``VENEZUELA``);
- it is valid on the release day (its window, in its own time zone, overlaps that US Eastern day).

The release entry then records which license it rests on (id, kind, number, title) in its details.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from clearance.ledger.ledger import Ledger, LedgerEntry, LedgerError
from clearance.policy.licenses import EASTERN, License, LicenseBook
from clearance.policy.programs import load_programs

#: The transaction type a license must authorize (or ``*``) for blocked property to be released under it.
RELEASE_TYPE = "release"


def _programs_with_aliases(entry: LedgerEntry) -> list[str]:
    """The entry's program tags and the canonical tags they stand for on the owner's list."""
    book = load_programs()
    list_name = (entry.owner_entity_id or "").partition(":")[0] or "ofac-sdn"
    out: list[str] = []
    for tag in entry.programs:
        for name in (tag, book.lookup(tag, list_name).tag):
            if name not in out:
                out.append(name)
    return out


def _valid_on(lic: License, day: date) -> bool:
    """Whether the license window overlaps the US Eastern calendar ``day``."""
    start = datetime.combine(day, time(), EASTERN)
    end = start + timedelta(days=1)
    starts, ends = lic.starts, lic.ends
    return (starts is None or starts < end) and (ends is None or ends > start)


def why_not_authorized(lic: License, block: LedgerEntry, day: date) -> str | None:
    """``None`` when ``lic`` authorizes releasing ``block`` on ``day``; else the reason, in words."""
    if not lic.authorizes_type(RELEASE_TYPE):
        return (
            f"license {lic.id} ({lic.title}) authorizes {', '.join(lic.transaction_types)}, "
            f"not the release of blocked property (its transaction_types must include {RELEASE_TYPE!r})"
        )
    programs = _programs_with_aliases(block)
    if not lic.covers_target(block.owner_entity_id or "", programs):
        reach = ", ".join([*lic.entities, *lic.programs]) or "nothing"
        held = block.owner_entity_id or block.owner
        return (
            f"license {lic.id} covers {reach}, not property of {held} "
            f"under {', '.join(block.programs) or 'no program'}"
        )
    if not _valid_on(lic, day):
        return f"license {lic.id} is not valid on {day.isoformat()} (valid {lic.window_text()})"
    return None


def release_under_license(
    ledger: Ledger,
    block_seq: int,
    *,
    license_id: str,
    licenses: LicenseBook | Iterable[License],
    released_on: date,
    amount: Decimal | None = None,
    note: str | None = None,
) -> LedgerEntry:
    """Append a release of ``block_seq`` authorized by ``license_id``; :class:`LedgerError` says why not."""
    book = licenses if isinstance(licenses, LicenseBook) else LicenseBook(licenses)
    wanted = license_id.strip()
    if not wanted:
        raise LedgerError("blocked property is released only under a license: give its license id")
    lic = book.get(wanted)
    if lic is None:
        raise LedgerError(
            f"unknown license {wanted!r}: add it with `clearance licenses add FILE` "
            "(`clearance licenses list` shows those known)"
        )
    block = ledger.entry(block_seq)
    if block.kind != "block":
        raise LedgerError(
            f"entry {block_seq} is a {block.kind} entry, not blocked property; nothing to release"
        )
    why = why_not_authorized(lic, block, released_on)
    if why is not None:
        raise LedgerError(f"release of entry {block_seq} refused: {why}")
    details: dict[str, object] = {
        "license": {
            "id": lic.id,
            "kind": lic.kind,
            "number": lic.number,
            "title": lic.title,
            "issuer": lic.issuer,
        }
    }
    if note:
        details["note"] = note
    return ledger.release(
        block_seq, license_id=lic.id, released_on=released_on, amount=amount, details=details
    )


__all__ = ["RELEASE_TYPE", "release_under_license", "why_not_authorized"]
