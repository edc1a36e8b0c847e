"""``schoonschip schedule``: the long-lived service that runs the nightly scan, the weekly
digest and the monthly FG report on the cron expressions of the configuration.

Built from APScheduler 3 parts, driven by a small loop of our own:

* :class:`~scanner.triggers.SchoolCronTrigger` (APScheduler's ``CronTrigger``, in
  :mod:`scanner.triggers`) computes fire times in the school's time zone, once per wall time
  across daylight saving changes.
* APScheduler's ``SQLAlchemyJobStore`` keeps the jobs and their next run time in the
  schoonschip database (table ``schedule_jobs``), so a restart keeps the schedule and a run
  that fell in a downtime is still known to be due.
* :class:`ScheduleService` is the loop: it asks the job store for due jobs at the time of a
  :class:`Clock`, coalesces all missed fire times of a job into one run, drops a run that is
  later than ``misfire_grace_seconds``, and runs one job at a time in the calling thread.

Why our own loop and not ``BlockingScheduler``: APScheduler 3 reads the wall clock
(``datetime.now``) inside the scheduler *and* inside its executors, so a test could only
drive it by sleeping or by patching the library. With the clock injected here, the tests run
exactly the production loop over simulated weeks, DST nights and downtimes in milliseconds.

One job at a time: a digest that falls due while a long scan runs waits for the scan (and
then reflects it) instead of racing it; fire times of the running job that pass meanwhile
coalesce into one later run. Across processes (a cron one-off next to the service, a second
host) the database locks keep runs apart: ``scan`` (taken by the pipeline), ``digest`` and
``report`` (taken here), and ``scheduler`` (one service per database).

SIGTERM and SIGINT set the stop event: the running scan stops taking new work, finishes the
batches in flight, marks its run ``interrupted`` (the next scan resumes it), and the service
exits with 0. A second Ctrl-C ends the process at once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import SQLAlchemyError

from scanner.config import Settings
from scanner.core.exitcodes import ExitCode
from scanner.store.schema import JOB_TABLE

# SchoolCronTrigger is imported here on purpose, not only for use: job stores written before
# scanner.triggers existed pickled their triggers as scanner.scheduling.SchoolCronTrigger.
from scanner.triggers import (  # noqa: F401 - SchoolCronTrigger: see above
    JOB_KINDS,
    ScheduleError,
    SchoolCronTrigger,
    build_triggers,
    run_times,
    school_timezone,
)

log = logging.getLogger("schoonschip.schedule")

MAX_WAIT_SECONDS = 60.0  # re-read the clock at least every minute (suspend, NTP steps)
LOCK_HEARTBEAT_SECONDS = 60.0
DATABASE_RETRY_SECONDS = 60

Action = Callable[[threading.Event], int]


# --- time ---------------------------------------------------------------------------------


class Clock(Protocol):
    """Where the service gets the time and how it waits (injected so tests need no sleeping)."""

    def now(self) -> datetime: ...

    def wait(self, seconds: float, stop: threading.Event) -> None: ...


class SystemClock:
    """The real clock. Waiting is on the stop event, so SIGTERM ends a wait at once, and no
    single wait is longer than a minute: after a suspend or an NTP step the loop looks at
    the clock again instead of sleeping on through a due run."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, seconds: float, stop: threading.Event) -> None:
        stop.wait(min(max(0.0, seconds), MAX_WAIT_SECONDS))


# --- the jobs -----------------------------------------------------------------------------


def run_job(kind: str, settings: Settings | None = None, stop: threading.Event | None = None) -> int:
    """Run one scheduled job the way the CLI would, with its output going to the log.

    This is also the callable recorded in the job store (``scanner.scheduling:run_job`` with
    the job kind as its only argument: no settings or secrets are pickled into the database);
    the service supplies ``settings`` and ``stop`` when it runs the job. Digest and report take
    a database lock of their own, so a one-off from cron and the service never send or write
    the same thing at once.
    """
    from scanner import jobs

    if settings is None:
        raise TypeError("run_job needs the settings / run_job heeft de instellingen nodig")
    stop = stop or threading.Event()

    def echo(line: str) -> None:
        for part in str(line).splitlines():
            log.info("%s: %s", kind, part)

    if kind == "scan":
        return jobs.run_scan(settings, progress=None, echo=echo, stop=stop)
    if kind == "digest":
        return _locked(settings, "digest", lambda: jobs.run_digest(settings, echo=echo))
    if kind == "report":
        return _locked(settings, "report", lambda: jobs.run_report(settings, echo=echo))
    raise ValueError(kind)


def _locked(settings: Settings, name: str, body: Callable[[], int]) -> int:
    from scanner.store import open_store
    from scanner.store.lock import LockedError, acquire

    store = open_store(settings)
    try:
        try:
            lock = acquire(store, name, stale_after=timedelta(hours=12))
        except LockedError as exc:
            log.warning("%s overgeslagen: loopt al (pid %s op %s) / skipped: already running",
                        name, exc.pid, exc.host)
            return ExitCode.LOCKED
        with lock:
            return body()
    finally:
        store.close()


def default_actions(settings: Settings) -> dict[str, Action]:
    return {kind: functools.partial(run_job, kind, settings) for kind in JOB_KINDS}


@dataclass(frozen=True)
class Outcome:
    """What the service did with one due job (kept for tests and logged for IT)."""

    kind: str
    scheduled: datetime
    started: datetime
    status: str  # ran | stopped | locked | missed | failed
    exit_code: int | None = None
    coalesced: int = 0


# --- the service --------------------------------------------------------------------------


class ScheduleService:
    """The scheduler loop around the persistent job store. See the module docstring."""

    def __init__(self, settings: Settings, engine: Any, *, clock: Clock | None = None,
                 actions: Mapping[str, Action] | None = None,
                 after_job: Callable[[str, int | None], None] | None = None) -> None:
        self.settings = settings
        self.timezone: tzinfo = school_timezone(settings)  # read by APScheduler's Job
        self.clock = clock or SystemClock()
        self.actions = dict(actions if actions is not None else default_actions(settings))
        self.after_job = after_job
        self.grace = int(settings.schedule.misfire_grace_seconds) or None
        self.jobstore = SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)
        self.outcomes: list[Outcome] = []
        self._started = False

    # --- set-up -----------------------------------------------------------------------

    def start(self) -> None:
        """Create the job table when needed and bring the stored jobs in line with the config.

        A job whose cron expression and time zone did not change keeps its stored next run
        time, even when that lies in the past: that is how a run missed during a downtime is
        still run once when the service comes back. A changed expression starts afresh.
        """
        triggers = build_triggers(self.settings)
        self.jobstore.start(self, "default")
        self._started = True
        now = self.clock.now()
        for kind, trigger in triggers.items():
            existing = self.jobstore.lookup_job(kind)
            if trigger is None:
                if existing is not None:
                    self.jobstore.remove_job(kind)
                    log.info("schema: %s uitgezet / switched off", kind)
                continue
            if existing is not None and _same_trigger(existing.trigger, trigger):
                if existing.misfire_grace_time != self.grace:
                    existing.misfire_grace_time = self.grace
                    self.jobstore.update_job(existing)
                continue
            job = Job(self, id=kind, name=kind, func=run_job, args=(kind,), kwargs={},
                      trigger=trigger, executor="default", misfire_grace_time=self.grace, coalesce=True,
                      max_instances=1, next_run_time=trigger.get_next_fire_time(None, now))
            if existing is None:
                self.jobstore.add_job(job)
            else:
                self.jobstore.update_job(job)
                log.info("schema: %s gewijzigd / changed", kind)
        for job in self.jobstore.get_all_jobs():
            if job.id not in triggers:
                self.jobstore.remove_job(job.id)
        for kind, when in self.next_runs().items():
            overdue = " (te laat, draait nu / overdue, runs now)" if when is not None and when <= now else ""
            log.info("schema: %s volgende run / next run %s%s", kind, _local(when, self.timezone), overdue)

    def shutdown(self) -> None:
        if self._started:
            self.jobstore.shutdown()  # disposes the engine it was given
            self._started = False

    def next_runs(self) -> dict[str, datetime | None]:
        return {job.id: job.next_run_time for job in self.jobstore.get_all_jobs()}

    # --- the loop -----------------------------------------------------------------------

    def serve(self, stop: threading.Event) -> None:
        """Run due jobs until ``stop`` is set."""
        while not stop.is_set():
            try:
                delay = self.run_pending(stop)
            except SQLAlchemyError as exc:
                # The database is down or restarting (PostgreSQL maintenance): keep the
                # service up and look again later instead of crashing into a restart loop.
                log.warning("database niet bereikbaar (%s), opnieuw over %d s / database unreachable, "
                            "retrying in %d s", type(exc).__name__, DATABASE_RETRY_SECONDS, DATABASE_RETRY_SECONDS)
                delay = DATABASE_RETRY_SECONDS
            if stop.is_set():
                break
            self.clock.wait(MAX_WAIT_SECONDS if delay is None else delay, stop)

    def run_pending(self, stop: threading.Event) -> float | None:
        """Run the earliest due job, if any; return the seconds until the next one is due."""
        now = self.clock.now()
        due = self.jobstore.get_due_jobs(now)
        if due:
            self._fire(due[0], now, stop)
            return 0.0
        upcoming = self.jobstore.get_next_run_time()
        if upcoming is None:
            return None
        return max(0.0, (upcoming - self.clock.now()).total_seconds())

    def _fire(self, job: Job, now: datetime, stop: threading.Event) -> None:
        times = run_times(job.trigger, job.next_run_time, now) or [job.next_run_time]
        scheduled = times[-1]  # coalesce: only the latest missed fire time runs
        following = job.trigger.get_next_fire_time(scheduled, now)
        # Advance the stored schedule before running, so a crash during the run does not make
        # every restart repeat it (an interrupted scan resumes with the next scan anyway). A
        # run cut short by a clean stop is put back below, so that a restart within the grace
        # time (a reboot, an upgrade) carries on with it straight away.
        if following is None:
            self.jobstore.remove_job(job.id)
        else:
            job.next_run_time = following
            self.jobstore.update_job(job)
        late = (now - scheduled).total_seconds()
        if job.misfire_grace_time is not None and late > job.misfire_grace_time:
            log.warning("%s van %s gemist (%.0f min te laat), volgende %s / run missed (%.0f min late), next %s",
                        job.id, _local(scheduled, self.timezone), late / 60, _local(following, self.timezone),
                        late / 60, _local(following, self.timezone))
            self.outcomes.append(Outcome(job.id, scheduled, now, "missed", None, len(times) - 1))
            return
        if len(times) > 1:
            log.info("%s: %d gemiste runs samengevoegd tot een / %d missed runs coalesced into one",
                     job.id, len(times), len(times))
        action = self.actions.get(job.id)
        if action is None:
            log.error("%s: onbekende taak / unknown job", job.id)
            return
        log.info("%s gestart (gepland %s) / started (scheduled %s)", job.id, _local(scheduled, self.timezone),
                 _local(scheduled, self.timezone))
        started = time.monotonic()
        try:
            code = int(action(stop))
        except Exception as exc:  # noqa: BLE001 - a failing job never stops the service
            log.error("%s mislukt / failed (%s)", job.id, type(exc).__name__)
            self.outcomes.append(Outcome(job.id, scheduled, now, "failed", None, len(times) - 1))
            self._after(job.id, None)
            return
        log.info("%s klaar in %.0f s, afsluitcode %d / done in %.0f s, exit code %d", job.id,
                 time.monotonic() - started, code, time.monotonic() - started, code)
        status = "ran" if code == ExitCode.OK else "locked" if code == ExitCode.LOCKED else "failed"
        if stop.is_set() and code == ExitCode.OK and following is not None:
            status = "stopped"
            job.next_run_time = scheduled
            self.jobstore.update_job(job)
            log.info("%s onderbroken door stop: gaat verder bij een herstart binnen de marge / cut short by "
                     "the stop: continues when the service restarts within the grace time", job.id)
        self.outcomes.append(Outcome(job.id, scheduled, now, status, code, len(times) - 1))
        self._after(job.id, code)

    def _after(self, kind: str, code: int | None) -> None:
        """Tell the hook how a job ended (exit code; None when it raised)."""
        if self.after_job is not None:
            try:
                self.after_job(kind, code)
            except Exception as exc:  # noqa: BLE001 - notification is best effort
                log.error("melding aan IT mislukt / notifying IT failed (%s)", type(exc).__name__)


def _same_trigger(old: Any, new: CronTrigger) -> bool:
    return type(old) is type(new) and str(old) == str(new) and str(old.timezone) == str(new.timezone)


def _local(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).isoformat(timespec="minutes") if moment else "-"


# --- signals and the process ----------------------------------------------------------------


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event | None = None) -> Iterator[threading.Event]:
    """Turn SIGTERM/SIGINT into ``stop.set()`` for the duration of the block.

    The first signal asks for a clean stop (finish the batches in flight, checkpoint); a
    second SIGINT (Ctrl-C again) raises ``KeyboardInterrupt`` as usual. Only usable in the
    main thread; elsewhere the event is returned without handlers.
    """
    stop = stop or threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, _frame: Any) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        log.info("stopsignaal %s: huidige werk afmaken en stoppen / stop signal: finishing current work",
                 signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _heartbeat(lock: Any, stop: threading.Event) -> None:
    while not stop.wait(LOCK_HEARTBEAT_SECONDS):
        try:
            lock.heartbeat()
        except Exception as exc:  # noqa: BLE001 - a missed heartbeat is retried next minute
            log.warning("hartslag van de dienst mislukt / service heartbeat failed (%s)", type(exc).__name__)


def notify_after_job(settings: Settings, store: Any, clock: Clock | None = None
                     ) -> Callable[[str, int | None], None]:
    """What the service does after a job: tell IT about failures, and when they are solved.

    A scan that returned normally was already reported on by ``run_scan`` itself (failed run,
    failing sources); here come the failures it could not report: a scan that raised, and
    failed digest or report runs. A job that succeeds again closes its open problem.
    """

    clock = clock or SystemClock()

    def after(kind: str, code: int | None) -> None:
        if not settings.notify.it_recipients or code == ExitCode.LOCKED:
            return
        from scanner.notify import notify_it, notify_job_failed, notify_job_ok

        now = clock.now()
        if code == ExitCode.OK:
            notify_job_ok(settings, store, kind, now=now)
            return
        if kind == "scan":
            if code is not None:
                return  # run_scan notified for this run itself
            runs = store.runs("scan", limit=1)
            if runs and runs[0]["status"] == "failed" and runs[0]["finished_at"] is not None:
                notify_it(settings, store, runs[0]["id"], now=now)
                return
        notify_job_failed(settings, store, kind, code, now=now)

    return after


def serve(settings: Settings, *, clock: Clock | None = None, actions: Mapping[str, Action] | None = None,
          stop: threading.Event | None = None, echo: Callable[[str], Any] | None = None) -> int:
    """Run the scheduler service until SIGTERM/SIGINT (or ``stop``). Returns an exit code."""
    from scanner.store import open_store
    from scanner.store.lock import LockedError, acquire

    echo = echo or (lambda line: print(line, file=sys.stderr))
    try:
        build_triggers(settings)
    except ScheduleError as exc:
        echo("\n".join([f"{settings.config_file or 'config'}:", *(f"  - {p}" for p in exc.problems)]))
        return ExitCode.CONFIG
    from scanner.core.privacy import private_directory

    private_directory(settings.state_dir)  # 0700 whatever the umask
    store = open_store(settings)
    try:
        try:
            lock = acquire(store, "scheduler")
        except LockedError as exc:
            echo(f"de planner draait al (pid {exc.pid} op {exc.host} sinds {exc.since:%Y-%m-%d %H:%M}) / "
                 f"the scheduler is already running")
            return ExitCode.LOCKED
        with stop_on_signals(stop) as event, lock:
            beat = threading.Thread(target=_heartbeat, args=(lock, event), name="schedule-heartbeat", daemon=True)
            beat.start()
            service = ScheduleService(settings, store.engine, clock=clock, actions=actions,
                                      after_job=notify_after_job(settings, store, clock))
            try:
                service.start()
                log.info("planner gestart / scheduler started (%s)", settings.school.timezone)
                service.serve(event)
            finally:
                event.set()
                beat.join(timeout=5)
        log.info("planner gestopt / scheduler stopped")
        return ExitCode.OK
    finally:
        store.close()
