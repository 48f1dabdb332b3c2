"""Program definitions as data: what a program tag on a listed entity means (``data/programs.yaml``).

A :class:`ProgramBook` answers two questions: which :class:`Program` a tag on an entity of a given list
stands for (the same tag can mean blocking on the SDN list and a sectoral directive on the non-SDN
list), and which :class:`CountryProgram` entries apply to a party by where it is or whose government it
belongs to. :meth:`Program.judge` says what a listing means for one transaction.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from clearance.errors import ParseError
from clearance.model import Entity
from clearance.policy.types import Outcome, ReasonCode, Transaction


class Effect(enum.StrEnum):
    BLOCKING = "blocking"
    PROHIBITED = "prohibited"
    SECTORAL = "sectoral"
    CORRESPONDENT = "correspondent"
    INVESTMENT_BAN = "investment_ban"
    EXPORT_DENIAL = "export_denial"
    REVIEW = "review"


#: For restrictive (non-blocking) effects: the transaction types that are prohibited outright.
_RESTRICTED_TYPES: dict[Effect, frozenset[str]] = {
    Effect.CORRESPONDENT: frozenset({"correspondent-account"}),
    Effect.INVESTMENT_BAN: frozenset({"securities"}),
    Effect.EXPORT_DENIAL: frozenset({"export"}),
}

_REASON_OF: dict[Effect, ReasonCode] = {
    Effect.BLOCKING: ReasonCode.LISTED,
    Effect.PROHIBITED: ReasonCode.LISTED,
    Effect.SECTORAL: ReasonCode.SECTORAL,
    Effect.CORRESPONDENT: ReasonCode.CORRESPONDENT,
    Effect.INVESTMENT_BAN: ReasonCode.INVESTMENT_BAN,
    Effect.EXPORT_DENIAL: ReasonCode.EXPORT_DENIAL,
    Effect.REVIEW: ReasonCode.LISTED,
}


@dataclass(slots=True, frozen=True)
class TenorLimit:
    """From ``start`` on, new debt with a maturity longer than ``max_days`` is prohibited."""

    start: date
    max_days: int


@dataclass(slots=True, frozen=True)
class Directive:
    number: str
    title: str
    prohibits: frozenset[str]  # transaction types; "*" means every dealing
    tenor: tuple[TenorLimit, ...] = ()

    def max_tenor(self, issued: date) -> int | None:
        """The tenor limit in force for debt issued on ``issued`` (None: no limit defined then)."""
        limit: int | None = None
        for step in sorted(self.tenor, key=lambda t: t.start):
            if step.start <= issued:
                limit = step.max_days
        return limit


@dataclass(slots=True, frozen=True)
class Judgement:
    """What one program makes of one transaction: the outcome and a sentence saying why."""

    outcome: Outcome
    code: ReasonCode
    message: str
    directive: str | None = None


@dataclass(slots=True)
class Program:
    tag: str
    effect: Effect
    name: str
    basis: str = ""
    effective: date | None = None
    lists: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    directives: dict[str, Directive] = field(default_factory=dict)
    directive_pattern: re.Pattern[str] | None = None
    defined: bool = True  # False when made up from the list default for an unknown tag

    @property
    def blocking(self) -> bool:
        return self.effect is Effect.BLOCKING

    def in_force(self, day: date) -> bool:
        return self.effective is None or self.effective <= day

    def directives_of(self, entity: Entity) -> list[str]:
        """The directive numbers the entity's remarks say it is subject to (for this program)."""
        if self.directive_pattern is None:
            return []
        found: list[str] = []
        for values in entity.properties.values():
            for value in values:
                for number in self.directive_pattern.findall(value):
                    if number not in found:
                        found.append(number)
        return found

    def judge(self, transaction: Transaction, day: date, entity: Entity | None = None) -> Judgement:
        """What a listing under this program means for ``transaction`` on ``day``."""
        code = _REASON_OF[self.effect]
        kind = transaction.type
        label = f"{self.tag} ({self.name})"
        if self.effect is Effect.BLOCKING:
            return Judgement(Outcome.BLOCK, code, f"listed under blocking program {label}")
        if self.effect is Effect.PROHIBITED:
            return Judgement(Outcome.REJECT, code, f"dealings prohibited under {label}")
        if self.effect is Effect.REVIEW:
            return Judgement(Outcome.REVIEW, code, f"listed under non-blocking program {label}")
        if self.effect is Effect.SECTORAL:
            return self._judge_directives(transaction, day, entity, label)
        restricted = _RESTRICTED_TYPES[self.effect]
        what = {
            Effect.CORRESPONDENT: "correspondent / payable-through account dealings are prohibited",
            Effect.INVESTMENT_BAN: "purchase or sale of its publicly traded securities is prohibited",
            Effect.EXPORT_DENIAL: "exports to it require a licence (export privileges denied); not blocked",
        }[self.effect]
        if kind in restricted:
            return Judgement(Outcome.REJECT, code, f"{label}: {what}")
        return Judgement(Outcome.REVIEW, code, f"{label}: {what}; confirm the dealing is not one of them")

    def _judge_directives(
        self, transaction: Transaction, day: date, entity: Entity | None, label: str
    ) -> Judgement:
        code = ReasonCode.SECTORAL
        numbers = self.directives_of(entity) if entity is not None else []
        numbers = [n for n in numbers if n in self.directives]
        if not numbers:
            return Judgement(
                Outcome.REVIEW, code, f"{label}: subject to a directive the listing does not name; review"
            )
        kind = transaction.type
        issued = transaction.issued or day
        allowed: list[str] = []
        for number in numbers:
            directive = self.directives[number]
            if "*" not in directive.prohibits and kind not in directive.prohibits:
                allowed.append(f"Directive {number} ({directive.title}) does not cover {kind!r}")
                continue
            if kind == "new-debt" and directive.tenor:
                limit = directive.max_tenor(issued)
                if limit is None:
                    allowed.append(f"Directive {number} had no tenor limit on {issued}")
                    continue
                if transaction.tenor_days is None:
                    return Judgement(
                        Outcome.REVIEW,
                        code,
                        f"{label}, Directive {number}: new debt over {limit} days is prohibited;"
                        " the tenor is not given",
                        number,
                    )
                if transaction.tenor_days <= limit:
                    allowed.append(
                        f"Directive {number}: tenor {transaction.tenor_days} days is within {limit} days"
                    )
                    continue
                return Judgement(
                    Outcome.REJECT,
                    code,
                    f"{label}, Directive {number}: new debt of {transaction.tenor_days} days exceeds the"
                    f" {limit}-day limit for debt issued on {issued}",
                    number,
                )
            return Judgement(
                Outcome.REJECT,
                code,
                f"{label}, Directive {number} prohibits {kind!r}: {directive.title}",
                number,
            )
        return Judgement(
            Outcome.REVIEW,
            code,
            f"{label}: sectoral restrictions only; " + "; ".join(allowed) + "; confirm the dealing",
            ",".join(numbers),
        )


@dataclass(slots=True, frozen=True)
class CountryProgram:
    """A program that applies to a party by location (``residents``) or government ownership."""

    program: str
    codes: frozenset[str]
    applies_to: str  # "residents" | "government"
    effect: Effect
    name: str
    basis: str = ""
    effective: date | None = None

    def outcome(self) -> Outcome:
        return {
            Effect.BLOCKING: Outcome.BLOCK,
            Effect.PROHIBITED: Outcome.REJECT,
        }.get(self.effect, Outcome.REVIEW)


class ProgramBook:
    """Every program definition, looked up by tag and list."""

    def __init__(
        self,
        programs: Iterable[Program],
        countries: Iterable[CountryProgram] = (),
        list_defaults: dict[str, Effect] | None = None,
    ) -> None:
        self._scoped: dict[tuple[str, str], Program] = {}
        self._any: dict[str, Program] = {}
        self.programs: list[Program] = []
        for program in programs:
            self.programs.append(program)
            for tag in (program.tag, *program.aliases):
                key = tag.upper()
                if program.lists:
                    for list_name in program.lists:
                        self._scoped[(key, list_name)] = program
                else:
                    self._any[key] = program
        self.countries = list(countries)
        self.list_defaults = dict(list_defaults or {})

    def lookup(self, tag: str, list_name: str) -> Program:
        """The program ``tag`` means on ``list_name``; an unknown tag gets the list's default effect."""
        key = tag.strip().upper()
        found = self._scoped.get((key, list_name)) or self._any.get(key)
        if found is not None:
            return found
        effect = self.list_defaults.get(list_name) or self.list_defaults.get("default") or Effect.REVIEW
        return Program(tag=tag, effect=effect, name=f"unknown program on {list_name}", defined=False)

    def of_entity(self, entity: Entity) -> list[Program]:
        """The programs an entity is listed under (its list's default when it names none)."""
        tags: list[str] = []
        for value in entity.get("program"):
            for part in value.split("] ["):
                part = part.strip().strip("[]").strip()
                if part and part not in tags:
                    tags.append(part)
        if not tags:
            tags = [entity.list_name.upper()]
        return [self.lookup(tag, entity.list_name) for tag in tags]

    def for_location(
        self, countries: Iterable[str], government_of: str | None, day: date
    ) -> list[CountryProgram]:
        """Country / government programs in force on ``day`` for a party so located or owned."""
        codes = {c.upper() for c in countries}
        gov = government_of.upper() if government_of else None
        out: list[CountryProgram] = []
        for entry in self.countries:
            if entry.effective is not None and entry.effective > day:
                continue
            located = entry.applies_to == "residents" and bool(codes & entry.codes)
            governed = entry.applies_to == "government" and gov is not None and gov in entry.codes
            if located or governed:
                out.append(entry)
        return out


# -- loading -----------------------------------------------------------------------------------------


def _date(value: Any, path: str, field_name: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ParseError(f"not a date (YYYY-MM-DD): {value!r}", path=path, field=field_name) from None


def _effect(value: Any, path: str, field_name: str) -> Effect:
    try:
        return Effect(str(value))
    except ValueError:
        raise ParseError(
            f"unknown effect {value!r}; one of {', '.join(e.value for e in Effect)}",
            path=path,
            field=field_name,
        ) from None


def _program(raw: dict[str, Any], path: str, index: int) -> Program:
    where = f"programs[{index}]"
    if not isinstance(raw, dict) or "tag" not in raw:
        raise ParseError("each program needs a 'tag'", path=path, field=where)
    tag = str(raw["tag"])
    directives: dict[str, Directive] = {}
    for number, body in (raw.get("directives") or {}).items():
        tenor = tuple(
            TenorLimit(
                _date(step["from"], path, f"{where}.directives.{number}.tenor") or date.min,
                int(step["max_days"]),
            )
            for step in body.get("tenor") or []
        )
        directives[str(number)] = Directive(
            number=str(number),
            title=str(body.get("title", "")),
            prohibits=frozenset(str(p) for p in body.get("prohibits") or []),
            tenor=tenor,
        )
    pattern = raw.get("directive_pattern")
    try:
        compiled = re.compile(str(pattern), re.IGNORECASE) if pattern else None
    except re.error as exc:
        raise ParseError(
            f"bad directive_pattern: {exc}", path=path, field=f"{where}.directive_pattern"
        ) from None
    return Program(
        tag=tag,
        effect=_effect(raw.get("effect"), path, f"{where}.effect"),
        name=str(raw.get("name", tag)),
        basis=str(raw.get("basis", "")),
        effective=_date(raw.get("effective"), path, f"{where}.effective"),
        lists=tuple(str(x) for x in raw.get("lists") or ()),
        aliases=tuple(str(x) for x in raw.get("aliases") or ()),
        directives=directives,
        directive_pattern=compiled,
    )


def load_programs(path: str | Path | None = None) -> ProgramBook:
    """Read a program table (the bundled ``data/programs.yaml`` when ``path`` is None)."""
    if path is None:
        return _bundled()
    text = Path(path).read_text(encoding="utf-8")
    return _parse(text, str(path))


@lru_cache(maxsize=1)
def _bundled() -> ProgramBook:
    source = resources.files("clearance") / "data" / "programs.yaml"
    return _parse(source.read_text(encoding="utf-8"), "clearance/data/programs.yaml")


def _parse(text: str, path: str) -> ProgramBook:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ParseError(f"not valid YAML: {exc}", path=path) from None
    programs = [_program(raw, path, i) for i, raw in enumerate(data.get("programs") or [])]
    countries = []
    for i, raw in enumerate(data.get("countries") or []):
        where = f"countries[{i}]"
        applies = str(raw.get("applies_to", ""))
        if applies not in ("residents", "government"):
            raise ParseError("applies_to must be 'residents' or 'government'", path=path, field=where)
        countries.append(
            CountryProgram(
                program=str(raw["program"]),
                codes=frozenset(str(c).upper() for c in raw.get("codes") or []),
                applies_to=applies,
                effect=_effect(raw.get("effect"), path, f"{where}.effect"),
                name=str(raw.get("name", raw["program"])),
                basis=str(raw.get("basis", "")),
                effective=_date(raw.get("effective"), path, f"{where}.effective"),
            )
        )
    defaults = {
        str(k): _effect(v, path, f"list_defaults.{k}") for k, v in (data.get("list_defaults") or {}).items()
    }
    return ProgramBook(programs, countries, defaults)
