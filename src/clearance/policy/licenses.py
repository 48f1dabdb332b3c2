"""Licenses as data: general and specific authorizations, read from YAML (``data/licenses/*.yaml``).

A :class:`License` lifts a program's prohibition for some targets (programs, listed entities and, when
``include_owned``, the entities they own 50% or more of), some transaction types, and a validity window
stated in a time zone (OFAC speaks US Eastern time: "12:01 a.m. eastern standard time, January 14,
2021"). ``valid_from`` is inclusive and ``valid_until`` exclusive, both wall-clock times in ``timezone``,
so a window ending at 00:01 still covers 00:00:59 and no longer covers 00:01:00, whatever the DST offset.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from clearance.errors import ParseError
from clearance.policy.types import Condition

EASTERN = ZoneInfo("America/New_York")

LICENSE_KINDS = ("general", "specific")

#: Validity windows are bounded so converting them between time zones can never overflow.
MIN_YEAR, MAX_YEAR = 1900, 2200


def aware(moment: datetime) -> datetime:
    """``moment`` with a time zone: a naive datetime is read as US Eastern wall-clock time."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=EASTERN)


def eastern_today() -> date:
    """Today in US Eastern time, the day OFAC's dates and deadlines are counted in (``date.today()`` is
    the machine's: on a machine in UTC, a day ahead from 7 p.m. Eastern)."""
    return eastern_day(datetime.now(UTC))


def eastern_day(moment: datetime) -> date:
    """The calendar day in US Eastern time at ``moment`` (the day lists and programs are dated in)."""
    return aware(moment).astimezone(EASTERN).date()


@dataclass(slots=True)
class License:
    id: str
    kind: str  # "general" | "specific"
    title: str
    issuer: str = "OFAC"
    number: str | None = None
    programs: list[str] = field(default_factory=list)  # program tags whose prohibitions it lifts
    entities: list[str] = field(default_factory=list)  # listed entity ids it is limited to (empty: any)
    include_owned: bool = False  # also entities those own 50% or more of, directly or indirectly
    transaction_types: list[str] = field(default_factory=list)  # "*" authorizes every type
    parties: list[str] = field(default_factory=list)  # specific licenses: party keys it was issued for
    valid_from: datetime | None = None  # naive wall-clock in ``timezone``; inclusive
    valid_until: datetime | None = None  # naive wall-clock in ``timezone``; exclusive
    timezone: str = "America/New_York"
    conditions: list[Condition] = field(default_factory=list)
    source: str | None = None
    notes: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def starts(self) -> datetime | None:
        return self.valid_from.replace(tzinfo=self.zone) if self.valid_from else None

    @property
    def ends(self) -> datetime | None:
        return self.valid_until.replace(tzinfo=self.zone) if self.valid_until else None

    def valid_at(self, moment: datetime) -> bool:
        """True when ``moment`` (naive: US Eastern) lies in ``[valid_from, valid_until)``."""
        at = aware(moment).astimezone(UTC)
        starts, ends = self.starts, self.ends
        if starts is not None and at < starts.astimezone(UTC):
            return False
        return not (ends is not None and at >= ends.astimezone(UTC))

    def authorizes_type(self, transaction_type: str) -> bool:
        return "*" in self.transaction_types or transaction_type in self.transaction_types

    def covers_target(self, entity_id: str, programs: Sequence[str], *, via_ownership: bool = False) -> bool:
        """Does the license reach a dealing with ``entity_id`` (listed under ``programs``)?

        ``via_ownership`` says the party is not ``entity_id`` itself but an entity it owns 50% or more of.
        """
        if via_ownership and self.entities and not self.include_owned:
            return False
        if self.programs:
            wanted = {p.upper() for p in self.programs}
            if not wanted & {p.upper() for p in programs}:
                return False
        return not self.entities or entity_id in self.entities

    def issued_for(self, party_key: str) -> bool:
        return not self.parties or party_key in self.parties

    def window_text(self) -> str:
        def show(moment: datetime | None) -> str:
            return moment.strftime("%Y-%m-%d %H:%M %Z") if moment else "open"

        return f"{show(self.starts)} to {show(self.ends)} ({self.timezone})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "issuer": self.issuer,
            "number": self.number,
            "programs": list(self.programs),
            "entities": list(self.entities),
            "include_owned": self.include_owned,
            "transaction_types": list(self.transaction_types),
            "parties": list(self.parties),
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "timezone": self.timezone,
            "conditions": [c.to_dict() for c in self.conditions],
            "source": self.source,
            "notes": self.notes,
        }


def _moment(value: Any, path: str, field_name: str) -> datetime | None:
    parsed = _parse_moment(value, path, field_name)
    if parsed is not None and not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ParseError(f"the year must lie between {MIN_YEAR} and {MAX_YEAR}", path=path, field=field_name)
    return parsed


def _parse_moment(value: Any, path: str, field_name: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            _reject_offset(path, field_name)
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ParseError(
            f"not a date-time (YYYY-MM-DDTHH:MM, wall-clock in `timezone`): {value!r}",
            path=path,
            field=field_name,
        ) from None
    if parsed.tzinfo is not None:
        _reject_offset(path, field_name)
    return parsed


def _reject_offset(path: str, field_name: str) -> datetime:
    raise ParseError(
        "give the wall-clock time without an offset and name the zone in `timezone`"
        " (e.g. 2021-01-14T00:01 with timezone America/New_York)",
        path=path,
        field=field_name,
    )


def _strings(raw: dict[str, Any], key: str, path: str) -> list[str]:
    value = raw.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise ParseError("expected a list of strings", path=path, field=key)
    return [str(v) for v in value]


def parse_license(raw: Any, path: str = "<license>") -> License:
    """A :class:`License` from its YAML / JSON mapping; :class:`ParseError` names the field at fault."""
    if not isinstance(raw, dict):
        raise ParseError("a license is a mapping of fields", path=path)
    for required in ("id", "kind", "title"):
        if not raw.get(required):
            raise ParseError(f"missing required field {required!r}", path=path, field=required)
    kind = str(raw["kind"])
    if kind not in LICENSE_KINDS:
        raise ParseError(f"kind must be one of {', '.join(LICENSE_KINDS)}", path=path, field="kind")
    zone_name = str(raw.get("timezone") or "America/New_York")
    try:
        ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ParseError(f"unknown time zone {zone_name!r}", path=path, field="timezone") from None
    conditions = []
    raw_conditions = raw.get("conditions") or []
    if not isinstance(raw_conditions, list):
        raise ParseError("conditions is a list of strings or {code, text}", path=path, field="conditions")
    for i, item in enumerate(raw_conditions):
        if isinstance(item, str) and item.strip():
            conditions.append(Condition(code=f"condition-{i + 1}", text=item))
        elif isinstance(item, dict) and item.get("text"):
            conditions.append(
                Condition(code=str(item.get("code") or f"condition-{i + 1}"), text=str(item["text"]))
            )
        else:
            raise ParseError("a condition is a string or {code, text}", path=path, field=f"conditions[{i}]")
    types = _strings(raw, "transaction_types", path)
    if not types:
        raise ParseError(
            "name the transaction types it authorizes ('*' for all)", path=path, field="transaction_types"
        )
    lic = License(
        id=str(raw["id"]),
        kind=kind,
        title=str(raw["title"]),
        issuer=str(raw.get("issuer") or "OFAC"),
        number=str(raw["number"]) if raw.get("number") is not None else None,
        programs=_strings(raw, "programs", path),
        entities=_strings(raw, "entities", path),
        include_owned=bool(raw.get("include_owned", False)),
        transaction_types=types,
        parties=_strings(raw, "parties", path),
        valid_from=_moment(raw.get("valid_from"), path, "valid_from"),
        valid_until=_moment(raw.get("valid_until"), path, "valid_until"),
        timezone=zone_name,
        conditions=conditions,
        source=str(raw["source"]) if raw.get("source") else None,
        notes=str(raw["notes"]) if raw.get("notes") else None,
    )
    if not lic.programs and not lic.entities:
        raise ParseError(
            "a license must name the programs or the entities it covers", path=path, field="programs"
        )
    if lic.valid_from and lic.valid_until and lic.valid_until <= lic.valid_from:
        raise ParseError("valid_until must be after valid_from", path=path, field="valid_until")
    return lic


def read_license_file(path: str | Path) -> list[License]:
    """Licenses from a YAML file holding one license mapping or a list of them."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParseError(f"not valid YAML: {exc}", path=path) from None
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror}", path=path) from None
    items = data if isinstance(data, list) else [data]
    return [
        parse_license(item, str(path) if len(items) == 1 else f"{path}[{i}]") for i, item in enumerate(items)
    ]


@lru_cache(maxsize=1)
def bundled_licenses() -> tuple[License, ...]:
    """The licenses shipped in ``clearance/data/licenses/``."""
    folder = resources.files("clearance") / "data" / "licenses"
    out: list[License] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            out.extend(read_license_file(Path(str(entry))))
    return tuple(out)


class LicenseBook:
    """A set of licenses; later ones with the same id replace earlier ones (stored over bundled)."""

    def __init__(self, licenses: Iterable[License]) -> None:
        self._by_id: dict[str, License] = {}
        for lic in licenses:
            self._by_id[lic.id] = lic

    def __iter__(self) -> Any:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, license_id: str) -> License | None:
        return self._by_id.get(license_id)

    def relevant(
        self, entity_id: str, programs: Sequence[str], *, via_ownership: bool = False
    ) -> list[License]:
        """Licenses whose targets include this dealing, whatever their window and transaction types."""
        return [
            lic
            for lic in self._by_id.values()
            if lic.covers_target(entity_id, programs, via_ownership=via_ownership)
        ]
