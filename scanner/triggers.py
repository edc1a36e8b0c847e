"""When the scheduled jobs are due: cron expressions as wall-clock times in the school's zone.

Pure calculation, no database and no service: ``schoonschip status`` shows the next runs from
here, the service (:mod:`scanner.scheduling`) fires its jobs by these triggers, and IT mails
count days in :func:`school_timezone`.

:class:`SchoolCronTrigger` is APScheduler's ``CronTrigger`` with two fixes for daylight
saving time. On the spring-forward night a time that does not exist (02:30) fires once, an
hour later by the wall clock (03:30 CEST); on the autumn night a wall time that occurs twice
fires only at its first occurrence (stock ``CronTrigger`` fires twice).

The service's job store pickles the trigger. Job stores written before this module existed
name the class ``scanner.scheduling.SchoolCronTrigger``, so :mod:`scanner.scheduling` keeps
importing it under that name.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from scanner.config import Settings

UTC = UTC
JOB_KINDS = ("scan", "digest", "report")
DISABLED = frozenset({"", "off", "uit", "none", "-"})


class SchoolCronTrigger(CronTrigger):
    """A cron trigger whose fire times are wall-clock times in the school's time zone.

    A wall time that occurs twice (the repeated hour on the last Sunday of October) fires
    only at its first occurrence, as cron users expect of a nightly job. A wall time that
    does not exist (the skipped hour in March) fires once at the same UTC offset as the day
    before, i.e. an hour later by the clock: the night is not skipped.
    """

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        fire = super().get_next_fire_time(previous_fire_time, now)
        for _ in range(4):
            if fire is None or not _second_occurrence(fire):
                break
            # Search again from just after the repeated wall time, in UTC: CronTrigger's own
            # "previous + 1 µs" compares wall times and would find the same fire time again.
            fire = super().get_next_fire_time(None, fire.astimezone(UTC) + timedelta(microseconds=1))
        return fire


def _second_occurrence(moment: datetime) -> bool:
    return moment.fold == 1 and moment.replace(fold=0).utcoffset() != moment.utcoffset()


class ScheduleError(Exception):
    """A schedule that cannot be used (bad cron expression or time zone); one line per problem."""

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(problems))


def school_timezone(settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.school.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"school.timezone: onbekende tijdzone {settings.school.timezone!r} / "
                            f"unknown time zone") from None


def build_triggers(settings: Settings) -> dict[str, SchoolCronTrigger | None]:
    """One trigger per job (None: switched off with ``off``). Raises :class:`ScheduleError`."""
    tz = school_timezone(settings)
    triggers: dict[str, SchoolCronTrigger | None] = {}
    problems = []
    for kind in JOB_KINDS:
        expression = str(getattr(settings.schedule, kind)).strip()
        if expression.lower() in DISABLED:
            triggers[kind] = None
            continue
        try:
            triggers[kind] = SchoolCronTrigger.from_crontab(expression, timezone=tz)
        except ValueError as exc:
            problems.append(f"schedule.{kind}: ongeldige cron-expressie {expression!r} / "
                            f"invalid cron expression ({exc})")
    if problems:
        raise ScheduleError(*problems)
    return triggers


def run_times(trigger: CronTrigger, first: datetime, now: datetime, limit: int = 10_000) -> list[datetime]:
    """Every fire time from ``first`` up to ``now`` (what a downtime missed)."""
    times: list[datetime] = []
    fire: datetime | None = first
    while fire is not None and fire <= now and len(times) < limit:
        times.append(fire)
        fire = trigger.get_next_fire_time(fire, now)
    return times
