"""Dates as the school sees them: its time zone, month names, ISO weeks, UTC from the store.

One home for these small facts because retention, reports, the demo generator and the
operations code all need them and had each written their own copy.

* Calendar days are taken in the school's time zone (Europe/Amsterdam by default): a mail
  received at 23:30 UTC on 31 July arrived on 1 August in Amsterdam, in the next school year.
* Month names are written out without the locale module, so output never changes with the
  server's ``LC_TIME`` (a Debian server often has only ``C.UTF-8``).
* The store keeps every timestamp in UTC, and SQLite returns them without an offset.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo
from typing import overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Europe/Amsterdam"
SCHOOL_ZONE = ZoneInfo(DEFAULT_TIMEZONE)
"""The default school time zone (a school abroad configures its own)."""

MONTHS: dict[str, tuple[str, ...]] = {
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}


def check_time_zone(name: str) -> str:
    """Return ``name`` if it is a known IANA time zone; else a Dutch/English ValueError (for
    pydantic validators: the school's and the retention rules' zone are checked alike)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"onbekende tijdzone '{name}' / unknown time zone '{name}'") from None
    return name


def local_date(moment: date | datetime, tz: tzinfo = SCHOOL_ZONE) -> date:
    """The calendar date of ``moment`` in ``tz``.

    A naive datetime is taken to be local time already (sources that lose the zone, such as
    some file systems, report local wall-clock time); a plain ``date`` is returned as is.
    """
    if isinstance(moment, datetime):
        if moment.tzinfo is None or moment.utcoffset() is None:
            return moment.date()
        return moment.astimezone(tz).date()
    return moment


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """A timestamp read from the store, made aware: SQLite hands back naive datetimes and
    everything stored is UTC. Aware values (PostgreSQL) and ``None`` pass unchanged."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def format_date(value: date | datetime | None, lang: str = "nl") -> str:
    """A date as people write it: "3 maart 2025" / "3 March 2025" (``""`` for ``None``)."""
    if value is None:
        return ""
    months = MONTHS["en" if lang == "en" else "nl"]
    return f"{value.day} {months[value.month - 1]} {value.year}"


def iso_week(day: date | datetime | None = None) -> str:
    """The delivery period of a weekly digest: ISO week, e.g. ``2026-W48`` (today in UTC when
    ``day`` is not given).

    ISO weeks (not calendar weeks counted from 1 January) because a digest sent on Monday
    29 December belongs to the same week as the one sent on Friday 2 January."""
    year, week, _ = (day or datetime.now(UTC).date()).isocalendar()
    return f"{year}-W{week:02d}"


_DUTCH_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?")


def parse_school_date(text: str) -> date | None:
    """A calendar date as a Dutch school administration exports it: ``31-07-2024``,
    ``1-8-2024``, ``31/07/2024``, ``31.07.2024`` (dag-maand-jaar) or ISO ``2024-07-31``
    (a time after it is ignored). ``None`` for an empty or unreadable cell.

    Day first for the slash form too: a Dutch LAS (ParnasSys, Magister, SOMtoday) never
    writes month first, and guessing per cell would give one pupil two meanings of ``03/04``.
    """
    text = text.strip()
    if not text:
        return None
    m = _DUTCH_DATE.fullmatch(text)
    if m:
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        m = _ISO_DATE.fullmatch(text)
        if not m:
            return None
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    try:
        return date(year, month, day)
    except ValueError:
        return None
