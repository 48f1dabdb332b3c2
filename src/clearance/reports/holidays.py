"""US federal holidays computed by rule (``data/holidays/us_federal.yaml``) and business-day arithmetic.

OFAC reports are due "within 10 business days": Saturdays, Sundays and federal holidays do not count.
Holidays are computed from their rules for any year (no hard-coded list of dates), including the
observed day when a fixed-date holiday falls on a weekend (Saturday -> Friday before, Sunday -> Monday
after; New Year's Day on a Saturday is observed on 31 December of the year before).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from clearance.errors import ParseError

_DATA = "data/holidays/us_federal.yaml"


@dataclass(slots=True, frozen=True)
class HolidayRule:
    name: str
    month: int
    day: int | None = None
    weekday: int | None = None
    nth: int | None = None
    observed: bool = False
    first_year: int | None = None
    last_year: int | None = None

    def actual(self, year: int) -> date | None:
        """The holiday's own date in ``year`` (None when it did not exist that year)."""
        if (self.first_year and year < self.first_year) or (self.last_year and year > self.last_year):
            return None
        if self.day is not None:
            return date(year, self.month, self.day)
        assert self.weekday is not None and self.nth is not None
        days = [
            d
            for d in calendar.Calendar().itermonthdates(year, self.month)
            if d.month == self.month and d.weekday() == self.weekday
        ]
        return days[self.nth - 1] if self.nth > 0 else days[self.nth]

    def observed_on(self, year: int) -> date | None:
        """The day federal offices close for the holiday of ``year``."""
        day = self.actual(year)
        if day is None or not self.observed:
            return day
        if day.weekday() == 5:
            return day - timedelta(days=1)
        if day.weekday() == 6:
            return day + timedelta(days=1)
        return day


def _rule(raw: Any, index: int) -> HolidayRule:
    if not isinstance(raw, dict) or "name" not in raw or "month" not in raw:
        raise ParseError("each holiday needs a name and a month", path=_DATA, field=f"holidays[{index}]")
    if ("day" in raw) == ("weekday" in raw):
        raise ParseError("give either day or weekday + nth", path=_DATA, field=f"holidays[{index}]")
    return HolidayRule(
        name=str(raw["name"]),
        month=int(raw["month"]),
        day=int(raw["day"]) if "day" in raw else None,
        weekday=int(raw["weekday"]) if "weekday" in raw else None,
        nth=int(raw["nth"]) if "nth" in raw else None,
        observed=bool(raw.get("observed", False)),
        first_year=int(raw["from"]) if "from" in raw else None,
        last_year=int(raw["until"]) if "until" in raw else None,
    )


@lru_cache(maxsize=1)
def rules() -> tuple[HolidayRule, ...]:
    text = (resources.files("clearance") / _DATA).read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    return tuple(_rule(raw, i) for i, raw in enumerate(data.get("holidays") or []))


@lru_cache(maxsize=256)
def federal_holidays(year: int) -> dict[date, str]:
    """Days in ``year`` on which a federal holiday is observed, with its name."""
    out: dict[date, str] = {}
    for rule in rules():
        for y in (year, year + 1):  # New Year's Day of next year may be observed on 31 December
            day = rule.observed_on(y)
            if day is not None and day.year == year:
                out[day] = rule.name + (" (observed)" if day != rule.actual(y) else "")
    return out


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in federal_holidays(day.year)


def add_business_days(start: date, days: int) -> date:
    """The ``days``-th business day after ``start`` (``start`` itself does not count)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    counted = 0
    while counted < days:
        current += timedelta(days=1)
        if is_business_day(current):
            counted += 1
    return current


def business_days_between(start: date, end: date) -> int:
    """Business days after ``start`` up to and including ``end`` (0 when ``end`` is not after ``start``)."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_business_day(current):
            count += 1
    return count
