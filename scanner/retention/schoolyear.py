"""Dutch school-year arithmetic.

A Dutch school year runs from 1 August to 31 July (the legal school year of the WPO and WVO).
Retention terms for student data are counted from the end of the school year an item belongs
to, so an item received on 31 July 2025 belongs to 2024-2025 (ends that same day) and one
received on 1 August 2025 to 2025-2026 (ends 31 July 2026).

Dates are taken in the school's time zone (Europe/Amsterdam): a mail received at
2025-07-31T23:30Z arrived at 01:30 on 1 August in Amsterdam and therefore belongs to the new
school year. The start day is configurable for schools abroad or special calendars.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache

from scanner.core.dates import SCHOOL_ZONE, local_date


def check_start(start_month: int, start_day: int) -> None:
    """Raise ``ValueError`` unless (month, day) is a start day valid in every year.

    29 February is refused: the school year would have no start in three years out of four.
    """
    try:
        date(2001, start_month, start_day)  # 2001 is not a leap year
    except (ValueError, TypeError):
        raise ValueError(
            f"ongeldige startdag van het schooljaar: {start_month:02d}-{start_day:02d} / "
            f"invalid school year start day: {start_month:02d}-{start_day:02d}"
        ) from None


def school_year_of(
    d: date | datetime, start_month: int = 8, start_day: int = 1, tz: tzinfo = SCHOOL_ZONE
) -> tuple[int, int]:
    """The school year ``d`` falls in, as (first calendar year, second calendar year).

    >>> school_year_of(date(2025, 7, 31)), school_year_of(date(2025, 8, 1))
    ((2024, 2025), (2025, 2026))
    """
    day = local_date(d, tz)
    if (day.month, day.day) >= (start_month, start_day):
        return (day.year, day.year + 1)
    return (day.year - 1, day.year)


def school_year_end(
    d: date | datetime, start_month: int = 8, start_day: int = 1, tz: tzinfo = SCHOOL_ZONE
) -> date:
    """The last day of the school year ``d`` falls in (31 July with the default start)."""
    day = local_date(d, tz)
    return _school_year_end(day, start_month, start_day)


@lru_cache(maxsize=8192)
def _school_year_end(day: date, start_month: int, start_day: int) -> date:
    # Cached: a run sees a few thousand distinct dates and millions of items.
    if (day.month, day.day) >= (start_month, start_day):
        end_year = day.year + 1
    else:
        end_year = day.year
    return date(end_year, start_month, start_day) - timedelta(days=1)


def add_years(d: date, years: int) -> date:
    """``d`` moved ``years`` calendar years on; 29 February becomes 28 February in a
    non-leap target year (a term never ends later than the same date would allow)."""
    if years == 0:
        return d
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)
