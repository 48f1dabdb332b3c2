"""Ownership links and OFAC's 50 percent rule.

OFAC's guidance (13 August 2014; FAQs 398-401): an entity is blocked when one or more blocked persons
own, directly or indirectly, 50 percent or more of it in the aggregate, listed or not. "Indirectly"
means through entities that are themselves blocked (a 100%-owned subsidiary of a blocked person holds
its stakes as a blocked person): percentages are *not* multiplied down through unblocked
intermediaries. So blocked status is a fixed point over the ownership graph: start from listed blocked
persons, mark every entity whose blocked owners hold 50% or more in sum, repeat until nothing changes.
That terminates on any graph (the set only grows), so cycles and deep chains need no special casing.

Only explicit ownership links count: a "Linked To:" remark on an OFAC listing is an association, not
ownership, and creates no link here. Links are read from CSV (``owner,asset,percentage,start_date,
end_date,source,owner_name,asset_name``) or FollowTheMoney ``Ownership`` entities (JSON lines).
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from clearance.errors import ParseError
from clearance.policy.types import OwnershipStep

#: Aggregate blocked ownership at or above this share (percent) blocks the entity.
BLOCK_SHARE = 50.0
#: Aggregate blocked ownership at or above this share (but below BLOCK_SHARE) calls for review.
REVIEW_SHARE = 25.0


@dataclass(slots=True, frozen=True)
class OwnershipLink:
    """``owner`` holds ``percentage`` % of ``asset`` from ``start`` to ``end`` (inclusive; None: open)."""

    owner: str
    asset: str
    percentage: float
    start: date | None = None
    end: date | None = None
    source: str | None = None
    owner_name: str | None = None
    asset_name: str | None = None

    def active(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def step(self) -> OwnershipStep:
        return OwnershipStep(self.owner, self.asset, self.percentage, self.source)

    def to_dict(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "asset": self.asset,
            "percentage": self.percentage,
            "start_date": self.start.isoformat() if self.start else None,
            "end_date": self.end.isoformat() if self.end else None,
            "source": self.source,
            "owner_name": self.owner_name,
            "asset_name": self.asset_name,
        }


@dataclass(slots=True)
class OwnershipResult:
    """What the 50% rule says about one entity on one day."""

    entity_id: str
    share: float  # aggregate percentage held by blocked persons (listed or blocked by this rule)
    paths: list[list[OwnershipStep]] = field(default_factory=list)  # one per blocked direct owner
    roots: list[str] = field(default_factory=list)  # the listed persons the paths start from

    @property
    def blocked(self) -> bool:
        return self.share >= BLOCK_SHARE

    @property
    def review(self) -> bool:
        return REVIEW_SHARE <= self.share < BLOCK_SHARE


class OwnershipGraph:
    """Ownership links indexed by asset, evaluated for a given day."""

    def __init__(self, links: Iterable[OwnershipLink] = ()) -> None:
        self.links: list[OwnershipLink] = []
        self._owners_of: dict[str, list[OwnershipLink]] = {}
        for link in links:
            self.add(link)

    def add(self, link: OwnershipLink) -> None:
        self.links.append(link)
        self._owners_of.setdefault(link.asset, []).append(link)

    def owners_of(self, asset: str, day: date) -> list[OwnershipLink]:
        return [link for link in self._owners_of.get(asset, ()) if link.active(day)]

    def ancestors(self, entity_id: str, day: date) -> set[str]:
        """Every entity that owns ``entity_id`` directly or indirectly on ``day`` (and itself)."""
        seen = {entity_id}
        queue = deque([entity_id])
        while queue:
            current = queue.popleft()
            for link in self.owners_of(current, day):
                if link.owner not in seen:
                    seen.add(link.owner)
                    queue.append(link.owner)
        return seen

    def evaluate(self, entity_id: str, day: date, is_blocked: Callable[[str], bool]) -> OwnershipResult:
        """Apply the 50% rule to ``entity_id`` on ``day``; ``is_blocked`` says who is listed as blocked.

        Only the entity's ancestors matter, so the fixed point runs on that subgraph alone.
        """
        scope = self.ancestors(entity_id, day)
        owned: dict[str, list[OwnershipLink]] = {}  # owner -> links to assets in scope
        for asset in scope:
            for link in self.owners_of(asset, day):
                owned.setdefault(link.owner, []).append(link)
        listed = {node for node in scope if node != entity_id and is_blocked(node)}
        # blocked by ownership: entity -> the links (from owners blocked before it) that made it so
        via: dict[str, list[OwnershipLink]] = {}
        blocked = set(listed)
        queue = deque(sorted(listed))
        while queue:
            owner = queue.popleft()
            for link in owned.get(owner, ()):
                asset = link.asset
                if asset in blocked or asset == entity_id:
                    continue
                holders = [lk for lk in self.owners_of(asset, day) if lk.owner in blocked]
                if _total(holders) >= BLOCK_SHARE:
                    blocked.add(asset)
                    via[asset] = holders
                    queue.append(asset)
        holders = [lk for lk in self.owners_of(entity_id, day) if lk.owner in blocked]
        result = OwnershipResult(entity_id, _total(holders))
        for link in sorted(holders, key=lambda lk: -lk.percentage):
            path = [link.step()]
            current = link.owner
            guard = 0
            while current in via and guard <= len(scope):
                parent = max(via[current], key=lambda lk: lk.percentage)
                path.insert(0, parent.step())
                current = parent.owner
                guard += 1
            result.paths.append(path)
            if current not in result.roots:
                result.roots.append(current)
        return result


def _total(links: Iterable[OwnershipLink]) -> float:
    """Sum of percentages, counting each owner once (its largest stated holding) and capped at 100."""
    best: dict[str, float] = {}
    for link in links:
        best[link.owner] = max(best.get(link.owner, 0.0), link.percentage)
    return min(100.0, round(sum(best.values()), 6))


# -- reading links -----------------------------------------------------------------------------------


def _percentage(value: Any, path: str, line: int | None, field_name: str) -> float:
    text = str(value if value is not None else "").strip().rstrip("%").strip()
    try:
        number = float(text)
    except ValueError:
        raise ParseError(
            f"percentage {value!r} is not a number", path=path, line=line, field=field_name
        ) from None
    if not 0.0 <= number <= 100.0:
        raise ParseError(f"percentage {number} is outside 0-100", path=path, line=line, field=field_name)
    return number


def _day(value: Any, path: str, line: int | None, field_name: str, *, end: bool = False) -> date | None:
    """A date from ``YYYY-MM-DD`` (or a FollowTheMoney partial date ``YYYY`` / ``YYYY-MM``: its first
    day for a start, its last day for an end)."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        if len(text) == 4 and text.isdigit():
            return date(int(text), 12, 31) if end else date(int(text), 1, 1)
        if len(text) == 7 and text[4] == "-":
            year, month = int(text[:4]), int(text[5:])
            if not end:
                return date(year, month, 1)
            following = date(year + month // 12, month % 12 + 1, 1)
            return date.fromordinal(following.toordinal() - 1)
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ParseError(
            f"date {text!r} is not YYYY-MM-DD (or YYYY, YYYY-MM)", path=path, line=line, field=field_name
        ) from None


def read_csv(text: str, path: str = "<csv>") -> list[OwnershipLink]:
    """Links from CSV with a header: owner, asset, percentage (required), start_date, end_date, source,
    owner_name, asset_name."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    for required in ("owner", "asset", "percentage"):
        if required not in header:
            raise ParseError(f"missing column {required!r} (columns: {', '.join(header)})", path=path, line=1)
    out = []
    for row in reader:
        line = reader.line_num
        row = {str(k).strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if not any(row.values()):
            continue
        for required in ("owner", "asset"):
            if not row.get(required):
                raise ParseError("empty value", path=path, line=line, field=required)
        if row["owner"] == row["asset"]:
            raise ParseError("an entity cannot own itself", path=path, line=line, field="asset")
        out.append(
            OwnershipLink(
                owner=row["owner"],
                asset=row["asset"],
                percentage=_percentage(row.get("percentage"), path, line, "percentage"),
                start=_day(row.get("start_date"), path, line, "start_date"),
                end=_day(row.get("end_date"), path, line, "end_date", end=True),
                source=row.get("source") or None,
                owner_name=row.get("owner_name") or None,
                asset_name=row.get("asset_name") or None,
            )
        )
    return out


def read_ftm(text: str, path: str = "<ftm>") -> list[OwnershipLink]:
    """Links from FollowTheMoney JSON lines: every ``Ownership`` entity (others are skipped).

    ``owner`` and ``asset`` are entity ids (or nested entities, whose id is used); ``percentage`` may
    hold "60", "60%" or "60.0"; ``startDate``/``endDate`` and ``sourceUrl``/``publisher`` are kept.
    """
    out = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        if not raw_line.strip():
            continue
        try:
            data = orjson.loads(raw_line)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"not JSON: {exc}", path=path, line=number) from None
        if not isinstance(data, dict) or data.get("schema") != "Ownership":
            continue
        props = data.get("properties") or {}

        def first(prop: str, props: dict[str, Any] = props) -> Any:
            values = props.get(prop) or []
            value = values[0] if values else None
            return value.get("id") if isinstance(value, dict) else value

        owner, asset = first("owner"), first("asset")
        if not owner or not asset:
            raise ParseError("an Ownership needs owner and asset", path=path, line=number, field="owner")
        share = first("percentage")
        if share is None:
            raise ParseError("no percentage", path=path, line=number, field="percentage")
        out.append(
            OwnershipLink(
                owner=str(owner),
                asset=str(asset),
                percentage=_percentage(share, path, number, "percentage"),
                start=_day(first("startDate"), path, number, "startDate"),
                end=_day(first("endDate"), path, number, "endDate", end=True),
                source=str(first("sourceUrl") or first("publisher") or data.get("id") or "") or None,
            )
        )
    return out


def read_links(path: str | Path) -> list[OwnershipLink]:
    """Links from a ``.csv`` file or FollowTheMoney JSON lines (``.json``, ``.jsonl``, ``.ftm``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror}", path=path) from None
    if path.suffix.lower() == ".csv":
        return read_csv(text, str(path))
    if path.suffix.lower() in (".json", ".jsonl", ".ftm", ".ijson"):
        return read_ftm(text, str(path))
    raise ParseError("ownership links are read from .csv or FollowTheMoney .json/.jsonl", path=path)
