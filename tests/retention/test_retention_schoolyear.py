"""School-year arithmetic: boundaries, time zones, leap years, and properties over all dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner.core.dates import local_date
from scanner.retention.schoolyear import (
    add_years,
    check_start,
    school_year_end,
    school_year_of,
)
from tests.retention.retention_helpers import AMS


def test_31_july_is_last_day_and_1_august_first_day() -> None:
    assert school_year_of(date(2025, 7, 31)) == (2024, 2025)
    assert school_year_of(date(2025, 8, 1)) == (2025, 2026)
    assert school_year_end(date(2025, 7, 31)) == date(2025, 7, 31)
    assert school_year_end(date(2025, 8, 1)) == date(2026, 7, 31)
    assert school_year_end(date(2025, 1, 1)) == date(2025, 7, 31)
    assert school_year_end(date(2024, 12, 31)) == date(2025, 7, 31)


def test_amsterdam_time_decides_the_day_in_summer() -> None:
    # 21:30 UTC on 31 July is 23:30 CEST: still the old school year.
    assert school_year_of(datetime(2025, 7, 31, 21, 30, tzinfo=UTC)) == (2024, 2025)
    # 22:30 UTC on 31 July is 00:30 CEST on 1 August: the new school year.
    assert school_year_of(datetime(2025, 7, 31, 22, 30, tzinfo=UTC)) == (2025, 2026)
    assert school_year_end(datetime(2025, 7, 31, 22, 30, tzinfo=UTC)) == date(2026, 7, 31)


def test_amsterdam_time_in_winter_is_utc_plus_one() -> None:
    assert local_date(datetime(2025, 1, 31, 22, 59, tzinfo=UTC)) == date(2025, 1, 31)
    assert local_date(datetime(2025, 1, 31, 23, 0, tzinfo=UTC)) == date(2025, 2, 1)


def test_other_offsets_are_converted_to_amsterdam() -> None:
    # 18:00 in New York on 31 July is 00:00 on 1 August in Amsterdam.
    ny = timezone(timedelta(hours=-6))
    assert school_year_of(datetime(2025, 7, 31, 18, 0, tzinfo=ny)) == (2025, 2026)


def test_naive_datetime_is_taken_as_local_time() -> None:
    assert school_year_of(datetime(2025, 7, 31, 23, 59)) == (2024, 2025)


def test_leap_years() -> None:
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert add_years(date(2024, 2, 28), 1) == date(2025, 2, 28)
    # A school year starting 1 March ends on 29 February in a leap year.
    assert school_year_end(date(2023, 9, 1), start_month=3, start_day=1) == date(2024, 2, 29)
    assert school_year_end(date(2024, 9, 1), start_month=3, start_day=1) == date(2025, 2, 28)
    assert school_year_of(date(2024, 2, 29), start_month=3, start_day=1) == (2023, 2024)


def test_start_day_must_exist_every_year() -> None:
    check_start(8, 1)
    for month, day in [(2, 29), (13, 1), (4, 31), (0, 1)]:
        with pytest.raises(ValueError, match="ongeldige startdag"):
            check_start(month, day)


dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
moments = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2100, 12, 31),
    timezones=st.just(UTC),
)


@given(dates)
def test_school_year_contains_the_date(d: date) -> None:
    first, second = school_year_of(d)
    assert second == first + 1
    assert date(first, 8, 1) <= d <= date(second, 7, 31)
    end = school_year_end(d)
    assert end == date(second, 7, 31)
    assert d <= end < d + timedelta(days=366)
    assert school_year_of(end) == (first, second)
    assert school_year_of(end + timedelta(days=1)) == (first + 1, second + 1)


@given(moments)
def test_aware_moments_use_the_amsterdam_calendar_day(moment: datetime) -> None:
    assert school_year_end(moment) == school_year_end(moment.astimezone(AMS).date())


@given(dates, st.integers(min_value=0, max_value=50))
def test_add_years_never_moves_backwards_or_past_the_same_day(d: date, years: int) -> None:
    moved = add_years(d, years)
    assert moved.year == d.year + years
    assert moved >= d
    assert (moved.month, moved.day) == (d.month, d.day) or (d.month, d.day, moved.day) == (
        2,
        29,
        28,
    )
