from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from clearance.reports.holidays import add_business_days, federal_holidays, is_business_day


def test_ten_business_days_after_2020_12_15_skip_christmas() -> None:
    assert add_business_days(date(2020, 12, 15), 10) == date(2020, 12, 30)


def test_weekend_holidays_are_observed_on_the_nearest_weekday() -> None:
    # 4 July 2020 was a Saturday (observed Friday 3rd); 4 July 2021 a Sunday (observed Monday 5th).
    assert date(2020, 7, 3) in federal_holidays(2020)
    assert date(2021, 7, 5) in federal_holidays(2021)
    # New Year's Day 2022 was a Saturday: observed on Friday 31 December 2021.
    assert date(2021, 12, 31) in federal_holidays(2021)
    assert "observed" in federal_holidays(2021)[date(2021, 12, 31)]


def test_weekday_rules_and_new_holidays() -> None:
    h2021 = federal_holidays(2021)
    assert date(2021, 1, 18) in h2021  # MLK day, third Monday of January
    assert date(2021, 5, 31) in h2021  # Memorial Day, last Monday of May
    assert date(2021, 11, 25) in h2021  # Thanksgiving, fourth Thursday
    assert date(2021, 6, 18) in h2021  # Juneteenth 2021 (Saturday) observed Friday
    assert not any(d.month == 6 and d.day in (18, 19) for d in federal_holidays(2020))  # not yet a holiday
    assert len(federal_holidays(2023)) == 11


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)), st.integers(0, 40))
def test_business_day_arithmetic_lands_on_a_business_day_and_counts_exactly(start: date, n: int) -> None:
    end = add_business_days(start, n)
    if n:
        assert is_business_day(end)
    counted = sum(1 for i in range(1, (end - start).days + 1) if is_business_day(start + timedelta(days=i)))
    assert counted == n
