"""The scheduler service, driven by a controllable clock through its production loop.

Every test runs ``ScheduleService.serve`` (or ``scheduling.serve``) over simulated days with a
real job store in a real database; the jobs are recording functions, except where the real
scan/digest jobs meet a held database lock.
"""

from __future__ import annotations

import os
import signal
import threading
from datetime import UTC, datetime, timedelta

import pytest

from scanner import scheduling
from scanner.core.exitcodes import ExitCode
from scanner.scheduling import ScheduleService
from scanner.store import Store, open_store
from scanner.store.lock import acquire
from scanner.triggers import SchoolCronTrigger
from tests.operations.conftest import AMS, FakeClock, local, make_settings


class Recorder:
    """Job actions that record when they ran (as Amsterdam wall time) on the fake clock."""

    def __init__(self, clock: FakeClock, durations: dict[str, timedelta] | None = None,
                 codes: dict[str, int] | None = None) -> None:
        self.clock = clock
        self.calls: list[tuple[str, datetime]] = []
        self.durations = durations or {}
        self.codes = codes or {}
        self.running = 0
        self.max_running = 0

    def actions(self) -> dict[str, scheduling.Action]:
        return {kind: (lambda stop, kind=kind: self.run(kind, stop)) for kind in scheduling.JOB_KINDS}

    def run(self, kind: str, stop: threading.Event) -> int:
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        self.calls.append((kind, self.clock.now().astimezone(AMS)))
        self.clock.advance(self.durations.get(kind, timedelta(minutes=5)))
        self.running -= 1
        return self.codes.get(kind, 0)

    def times(self, kind: str) -> list[datetime]:
        return [when for k, when in self.calls if k == kind]


def service_for(settings, clock: FakeClock, recorder: Recorder) -> tuple[ScheduleService, Store]:
    store = open_store(settings)
    service = ScheduleService(settings, store.engine, clock=clock, actions=recorder.actions())
    service.start()
    return service, store


def run_until(settings, start: datetime, until: datetime, recorder: Recorder | None = None,
              clock: FakeClock | None = None) -> tuple[Recorder, ScheduleService]:
    clock = clock or FakeClock(start, until)
    clock.current, clock.until = start.astimezone(UTC), until.astimezone(UTC)
    recorder = recorder or Recorder(clock)
    recorder.clock = clock
    service, store = service_for(settings, clock, recorder)
    try:
        service.serve(threading.Event())
    finally:
        service.shutdown()
        store.close()
    return recorder, service


def test_nightly_scan_weekly_digest_monthly_report(tmp_path):
    settings = make_settings(tmp_path)
    recorder, _ = run_until(settings, local(2027, 1, 25, 0, 0), local(2027, 2, 8, 0, 0))
    scans = recorder.times("scan")
    assert [(t.day, t.hour, t.minute) for t in scans][:3] == [(25, 2, 0), (26, 2, 0), (27, 2, 0)]
    assert len(scans) == 14
    assert [(t.month, t.day, t.hour) for t in recorder.times("digest")] == [(1, 25, 7), (2, 1, 7)]
    assert all(t.weekday() == 0 for t in recorder.times("digest"))
    assert [(t.month, t.day, t.hour) for t in recorder.times("report")] == [(2, 1, 8)]
    # on 1 February the jobs run in their own order, one after the other
    feb1 = [kind for kind, t in recorder.calls if (t.month, t.day) == (2, 1)]
    assert feb1 == ["scan", "digest", "report"]


def test_spring_forward_nonexistent_time_runs_once_that_night(tmp_path):
    """Last Sunday of March 2027 (28th): 02:00-03:00 does not exist in Amsterdam."""
    settings = make_settings(tmp_path, schedule={"scan": "30 2 * * *", "digest": "off", "report": "off"})
    recorder, _ = run_until(settings, local(2027, 3, 26, 12, 0), local(2027, 3, 30, 12, 0))
    scans = recorder.times("scan")
    assert [t.date().day for t in scans] == [27, 28, 29, 30]
    spring = scans[1]
    assert spring.astimezone(UTC) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert (spring.hour, spring.minute, spring.utcoffset()) == (3, 30, timedelta(hours=2))
    assert [(t.hour, t.minute) for t in (scans[0], scans[2], scans[3])] == [(2, 30)] * 3


def test_autumn_repeated_hour_runs_once(tmp_path):
    """Last Sunday of October 2027 (31st): 02:00-03:00 happens twice; the job runs once."""
    settings = make_settings(tmp_path, schedule={"scan": "30 2 * * *", "digest": "off", "report": "off"})
    recorder, _ = run_until(settings, local(2027, 10, 29, 12, 0), local(2027, 11, 2, 12, 0))
    scans = recorder.times("scan")
    assert [t.date().day for t in scans] == [30, 31, 1, 2]
    assert scans[1].astimezone(UTC) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # first 02:30 (CEST)


def test_trigger_fire_times_across_dst():
    """The trigger itself: stock CronTrigger fires twice in October; ours once; weekly digest keeps 07:00."""
    from apscheduler.triggers.cron import CronTrigger

    def fires(trigger, start, count):
        out, previous, now = [], None, start
        for _ in range(count):
            previous = trigger.get_next_fire_time(previous, now)
            out.append(previous)
            now = previous
        return out

    ours = fires(SchoolCronTrigger.from_crontab("30 2 * * *", timezone=AMS), local(2027, 10, 30, 12, 0), 3)
    stock = fires(CronTrigger.from_crontab("30 2 * * *", timezone=AMS), local(2027, 10, 30, 12, 0), 3)
    assert [t.astimezone(UTC).day for t in ours] == [31, 1, 2]
    assert stock[0].date() == stock[1].date(), "stock CronTrigger repeats the autumn hour (why ours exists)"
    digest = fires(SchoolCronTrigger.from_crontab("0 7 * * mon", timezone=AMS), local(2027, 3, 20, 0, 0), 2)
    assert [(t.astimezone(AMS).hour, t.astimezone(UTC).hour) for t in digest] == [(7, 6), (7, 5)]


def test_restart_keeps_the_stored_schedule_and_a_changed_expression_replaces_it(tmp_path):
    settings = make_settings(tmp_path)
    clock = FakeClock(local(2027, 1, 4, 1, 0))
    recorder = Recorder(clock)
    service, store = service_for(settings, clock, recorder)
    first = service.next_runs()
    service.shutdown()
    store.close()
    assert first["scan"] == local(2027, 1, 4, 2, 0)
    # a restart an hour later in the same night keeps every stored next run time
    clock.advance(timedelta(minutes=30))
    service, store = service_for(settings, clock, recorder)
    assert service.next_runs() == first
    service.shutdown()
    store.close()
    changed = make_settings(tmp_path, schedule={"scan": "15 3 * * *"})
    service, store = service_for(changed, clock, recorder)
    runs = service.next_runs()
    service.shutdown()
    store.close()
    assert runs["scan"] == local(2027, 1, 4, 3, 15)
    assert runs["digest"] == first["digest"]


def test_run_missed_during_downtime_runs_once_when_back(tmp_path):
    settings = make_settings(tmp_path)
    # up on Monday 01:00, down at 01:30, back at 04:00: the 02:00 scan is 2 h late (grace 6 h)
    recorder, _ = run_until(settings, local(2027, 1, 4, 1, 0), local(2027, 1, 4, 1, 30))
    assert recorder.calls == []
    recorder, service = run_until(settings, local(2027, 1, 4, 4, 0), local(2027, 1, 4, 12, 0))
    assert recorder.times("scan") == [local(2027, 1, 4, 4, 0)]
    assert [(o.kind, o.scheduled.astimezone(AMS).hour, o.status) for o in service.outcomes][:2] == [
        ("scan", 2, "ran"), ("digest", 7, "ran")]


def test_five_missed_nights_run_once_not_five_times(tmp_path):
    settings = make_settings(tmp_path, schedule={"scan": "0 2 * * *", "digest": "off", "report": "off",
                                                 "misfire_grace_seconds": 7 * 86400})
    run_until(settings, local(2027, 1, 4, 1, 0), local(2027, 1, 4, 1, 30))
    recorder, service = run_until(settings, local(2027, 1, 8, 23, 0), local(2027, 1, 9, 1, 0))
    assert recorder.times("scan") == [local(2027, 1, 8, 23, 0)]
    assert service.outcomes[0].coalesced == 4
    assert service.outcomes[0].scheduled == local(2027, 1, 8, 2, 0)


def test_run_later_than_the_grace_time_is_skipped_until_the_next_night(tmp_path):
    settings = make_settings(tmp_path, schedule={"scan": "0 2 * * *", "digest": "off", "report": "off",
                                                 "misfire_grace_seconds": 6 * 3600})
    run_until(settings, local(2027, 1, 4, 1, 0), local(2027, 1, 4, 1, 30))
    recorder, service = run_until(settings, local(2027, 1, 4, 10, 0), local(2027, 1, 5, 12, 0))
    assert [o.status for o in service.outcomes] == ["missed", "ran"]
    assert recorder.times("scan") == [local(2027, 1, 5, 2, 0)]


def test_long_run_never_overlaps_and_fire_times_during_it_coalesce(tmp_path):
    """A scan that takes 30 hours: the night it overran is run once afterwards, the Monday
    digest waits for the scan instead of running beside it."""
    settings = make_settings(tmp_path, schedule={"scan": "0 2 * * *", "digest": "0 7 * * mon", "report": "off",
                                                 "misfire_grace_seconds": 12 * 3600})
    clock = FakeClock(local(2027, 1, 3, 12, 0))
    recorder = Recorder(clock, durations={"scan": timedelta(hours=30)})
    recorder, service = run_until(settings, local(2027, 1, 3, 12, 0), local(2027, 1, 5, 12, 0), recorder, clock)
    assert recorder.max_running == 1
    # Mon 02:00 scan runs until Tue 08:00; the Monday 07:00 digest is 25 h late then (grace 12 h):
    # missed; the Tuesday 02:00 scan is 6 h late: runs once, right after.
    assert [(o.kind, o.status) for o in service.outcomes] == [("scan", "ran"), ("digest", "missed"), ("scan", "ran")]
    assert recorder.times("scan") == [local(2027, 1, 4, 2, 0), local(2027, 1, 5, 8, 0)]


def test_digest_waits_for_a_running_scan(tmp_path):
    settings = make_settings(tmp_path, schedule={"scan": "0 2 * * *", "digest": "0 7 * * mon", "report": "off"})
    clock = FakeClock(local(2027, 1, 3, 12, 0))
    recorder = Recorder(clock, durations={"scan": timedelta(hours=6)})
    recorder, _ = run_until(settings, local(2027, 1, 3, 12, 0), local(2027, 1, 4, 12, 0), recorder, clock)
    assert recorder.calls == [("scan", local(2027, 1, 4, 2, 0)), ("digest", local(2027, 1, 4, 8, 0))]


def test_database_run_lock_keeps_cron_and_service_apart(tmp_path):
    """The real scan and digest jobs meet a lock held by another live process (here: this test)."""
    settings = make_settings(tmp_path, schedule={"scan": "0 2 * * *", "digest": "0 7 * * mon", "report": "off"})
    store = open_store(settings)
    scan_lock, digest_lock = acquire(store, "scan"), acquire(store, "digest")
    clock = FakeClock(local(2027, 1, 4, 1, 0), local(2027, 1, 4, 9, 0))
    service = ScheduleService(settings, store.engine, clock=clock)  # default actions: the real jobs
    service.start()
    try:
        service.serve(threading.Event())
    finally:
        scan_lock.release()
        digest_lock.release()
    assert [(o.kind, o.status, o.exit_code) for o in service.outcomes] == [
        ("scan", "locked", ExitCode.LOCKED), ("digest", "locked", ExitCode.LOCKED)]
    assert store.runs("scan") == []
    store.close()


def test_only_one_service_per_database(tmp_path):
    settings = make_settings(tmp_path)
    store = open_store(settings)
    with acquire(store, "scheduler"):
        lines: list[str] = []
        assert scheduling.serve(settings, clock=FakeClock(local(2027, 1, 4, 1, 0)), echo=lines.append) == 3
    assert "already running" in lines[0]
    store.close()


def test_invalid_cron_expression_is_a_configuration_error(tmp_path):
    """Caught when the configuration is loaded, not at the first fire time."""
    from scanner.config import ConfigError

    with pytest.raises(ConfigError) as info:
        make_settings(tmp_path, schedule={"scan": "0 25 * * *"})
    assert any("schedule.scan" in p and "cron" in p for p in info.value.problems)


def test_sigterm_during_a_job_finishes_it_and_stops_the_service(tmp_path):
    """A real SIGTERM to this process while a job runs: the job sees the stop event, the
    service returns 0 and restores the previous signal handlers."""
    settings = make_settings(tmp_path, schedule={"scan": "0 2 * * *", "digest": "off", "report": "off"})
    clock = FakeClock(local(2027, 1, 4, 1, 0))
    seen: list[bool] = []

    def scan(stop: threading.Event) -> int:
        os.kill(os.getpid(), signal.SIGTERM)
        seen.append(stop.wait(5))
        return 0

    before = signal.getsignal(signal.SIGTERM)
    code = scheduling.serve(settings, clock=clock, actions={"scan": scan, "digest": scan, "report": scan})
    assert code == 0
    assert seen == [True]
    assert signal.getsignal(signal.SIGTERM) is before
    store = open_store(settings)
    assert store.runs() == []
    from sqlalchemy import text

    with store.engine.connect() as conn:  # the service's lock is released
        assert conn.execute(text("select count(*) from locks")).scalar() == 0
    store.close()


def test_after_job_hook_gets_every_outcome(tmp_path):
    settings = make_settings(tmp_path, schedule={"scan": "0 2 * * *", "digest": "0 7 * * mon", "report": "off"})
    clock = FakeClock(local(2027, 1, 4, 1, 0), local(2027, 1, 4, 9, 0))
    seen: list[tuple[str, int | None]] = []
    store = open_store(settings)

    def broken(stop: threading.Event) -> int:
        raise RuntimeError("boom")

    service = ScheduleService(settings, store.engine, clock=clock, actions={"scan": broken, "digest": lambda stop: 1},
                              after_job=lambda k, c: seen.append((k, c)))
    service.start()
    service.serve(threading.Event())
    assert seen == [("scan", None), ("digest", 1)]
    assert [o.status for o in service.outcomes] == ["failed", "failed"]
    store.close()


@pytest.mark.service
def test_job_store_on_postgresql_survives_a_restart(request, tmp_path):
    from tests.services.postgres import reset_database

    url = request.getfixturevalue("postgres_url")
    reset_database(url)
    settings = make_settings(tmp_path, database_url=url)
    run_until(settings, local(2027, 1, 4, 1, 0), local(2027, 1, 4, 1, 30))
    recorder, _ = run_until(settings, local(2027, 1, 4, 3, 0), local(2027, 1, 4, 4, 0))
    assert recorder.times("scan") == [local(2027, 1, 4, 3, 0)]


def test_alembic_autogenerate_leaves_the_job_store_alone(tmp_path):
    """With the store's include_object (for migrations/env.py), autogenerate sees no difference
    even though APScheduler's schedule_jobs exists in the database; it_notifications is the
    migrations' own table now."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from scanner.store.migrate import include_object
    from scanner.store.schema import metadata

    settings = make_settings(tmp_path)
    store = open_store(settings)
    service = ScheduleService(settings, store.engine, clock=FakeClock(local(2027, 1, 4, 1, 0)))
    service.start()
    with store.engine.connect() as conn:
        unfiltered = compare_metadata(MigrationContext.configure(conn), metadata)
        filtered = compare_metadata(MigrationContext.configure(
            conn, opts={"include_object": include_object}), metadata)
    store.close()
    removed = {diff[1].name for diff in unfiltered if diff[0] == "remove_table"}
    assert removed == {"schedule_jobs"}
    assert filtered == []


def test_database_outage_does_not_stop_the_service(tmp_path, caplog):
    """The job table vanishes (standing in for a database that is down): the loop logs, waits
    and tries again, and runs the jobs once the table is back."""
    from sqlalchemy import text

    settings = make_settings(tmp_path, schedule={"scan": "0 2 * * *", "digest": "off", "report": "off"})
    clock = FakeClock(local(2027, 1, 4, 1, 0), local(2027, 1, 4, 1, 10))
    recorder = Recorder(clock)
    service, store = service_for(settings, clock, recorder)
    with store.engine.begin() as conn:
        conn.execute(text("alter table schedule_jobs rename to schedule_jobs_away"))
    service.serve(threading.Event())
    assert any("database unreachable" in r.getMessage() for r in caplog.records)
    with store.engine.begin() as conn:
        conn.execute(text("alter table schedule_jobs_away rename to schedule_jobs"))
    clock.until = local(2027, 1, 4, 3, 0).astimezone(UTC)
    service.serve(threading.Event())
    assert recorder.times("scan") == [local(2027, 1, 4, 2, 0)]
    service.shutdown()
    store.close()


def test_run_cut_short_by_a_stop_continues_after_a_restart_within_grace(tmp_path):
    """SIGTERM at 02:40 (a reboot): the scan is due again when the service is back at 02:50,
    still for its 02:00 slot; a restart after the grace time waits for the next night."""
    settings = make_settings(tmp_path, schedule={"scan": "0 2 * * *", "digest": "off", "report": "off"})
    clock = FakeClock(local(2027, 1, 4, 1, 0))

    def stopped_scan(stop: threading.Event) -> int:
        clock.advance(timedelta(minutes=40))
        stop.set()  # what the SIGTERM handler does
        return 0

    store = open_store(settings)
    service = ScheduleService(settings, store.engine, clock=clock, actions={"scan": stopped_scan})
    service.start()
    service.serve(threading.Event())
    assert [(o.status, o.scheduled) for o in service.outcomes] == [("stopped", local(2027, 1, 4, 2, 0))]
    assert service.next_runs()["scan"] == local(2027, 1, 4, 2, 0)
    store.close()
    recorder, again = run_until(settings, local(2027, 1, 4, 2, 50), local(2027, 1, 4, 3, 0))
    assert recorder.times("scan") == [local(2027, 1, 4, 2, 50)]
    assert again.outcomes[0].scheduled == local(2027, 1, 4, 2, 0)
