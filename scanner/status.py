"""``schoonschip status``: what monitoring and IT need to know at a glance.

Read-only on purpose: it never creates or migrates the database (a monitoring account may
only be allowed to read), and it works before the first scan. ``last_run_failed`` drives the
exit code 4; ``stale`` says the last successful scan is older than :data:`STALE_AFTER`, which
usually means the nightly job is not running at all.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scanner.config import Settings
from scanner.core.model import RetentionStatus

STALE_AFTER = timedelta(days=2)
SERVICE_SILENT_AFTER = timedelta(minutes=5)  # the service's lock heartbeat comes every minute


def next_runs(settings: Settings, now: datetime | None = None) -> dict[str, str | None]:
    """Next fire time of each job from the configuration, in the school's time zone."""
    from scanner.triggers import ScheduleError, build_triggers

    now = now or datetime.now(UTC)
    try:
        triggers = build_triggers(settings)
    except ScheduleError as exc:
        return {"error": str(exc)}
    out: dict[str, str | None] = {}
    for job, trigger in triggers.items():
        fire = trigger.get_next_fire_time(None, now) if trigger is not None else None
        out[job] = fire.isoformat(timespec="minutes") if fire else None
    return out


def _empty_status(settings: Settings, now: datetime) -> dict[str, Any]:
    return {
        "runs": [], "last_run_failed": False, "last_run_status": None, "last_success": None, "stale": False,
        "errors_per_source": [], "warnings_per_source": [], "given_up": [], "failing_streaks": {},
        "detection_mode": None, "detection_notice": None,
        "next_runs": next_runs(settings, now), "service": None, "database_bytes": 0, "retention": {},
        "warnings": ["nog geen database: er is nog niet gescand / no database yet: nothing scanned so far"],
    }


def collect_status(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    from scanner.store import open_store

    now = now or datetime.now(UTC)
    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return _empty_status(settings, now)
    store = open_store(settings, create=False)
    try:
        tables = store.table_names()
        if "runs" not in tables:
            status = _empty_status(settings, now)
            status["database_bytes"] = store.size_bytes()
            return status
        return _collect(settings, store, tables, now)
    finally:
        store.close()


def run_state(run: dict[str, Any]) -> str:
    """The run's status as it really is: a run recorded as running whose process is gone
    from this host (kill -9, a crash, a reboot) is ``interrupted``; the next scan resumes it."""
    if run["status"] != "running" or not run.get("pid") or run.get("host") != socket.gethostname():
        return run["status"]
    try:
        os.kill(int(run["pid"]), 0)
    except ProcessLookupError:
        return "interrupted"
    except (PermissionError, OSError):
        return run["status"]  # alive under another user, or cannot tell
    return run["status"]


def _collect(settings: Settings, store: Any, tables: set[str], now: datetime) -> dict[str, Any]:
    from scanner.core.dates import as_utc

    runs = [{**r, "status": run_state(r)} for r in store.runs("scan", limit=10)]
    last = runs[0] if runs else None
    errors: Counter = Counter()
    warned: Counter = Counter()
    if last:
        # Warnings (a blind spot, a suspected outage) are reported apart: not failures. Counted
        # in SQL, so status works without the store key.
        for (source, code, severity), count in store.source_error_counts(last["id"]).items():
            (warned if severity == "warning" else errors)[(source, code)] += count
    completed = [r for r in store.runs("scan", limit=200) if r["status"] == "completed" and r["finished_at"]]
    last_success = as_utc(completed[0]["finished_at"]) if completed else None
    stale = bool(runs) and (last_success is None or now - last_success > STALE_AFTER)
    streaks = {s.name: n for s in settings.sources if s.enabled and (n := store.consecutive_failing_runs(s.name))}
    warnings = []
    if store.key_problem:
        warnings.append(store.key_problem)
    if last and last["status"] == "failed":
        warnings.append(f"laatste scan #{last['id']} mislukt / last scan failed ({last.get('error') or '?'})")
    if stale:
        since = f"{last_success:%Y-%m-%d %H:%M}" if last_success else "nooit / never"
        warnings.append(f"geen geslaagde scan in {STALE_AFTER.days} dagen (laatste: {since}) / "
                        f"no successful scan in {STALE_AFTER.days} days")
    service = _service(store, tables, settings)
    beat = (service or {}).get("heartbeat_at")
    if service is not None and beat is not None and now - beat > SERVICE_SILENT_AFTER:
        warnings.append(f"planner (pid {service['pid']} op/on {service['host']}) geeft sinds {beat:%Y-%m-%d %H:%M} "
                        f"UTC geen teken van leven / the scheduler has shown no sign of life since then")
    threshold = settings.notify.failing_source_runs
    for name, streak in sorted(streaks.items()):
        if streak >= threshold:
            warnings.append(f"bron {name}: fouten in {streak} scans op rij / errors in {streak} scans in a row")
    if last and last["status"] == "interrupted":
        warnings.append(f"scan #{last['id']} is afgebroken (proces bestaat niet meer); de volgende scan hervat hem "
                        f"/ scan #{last['id']} was interrupted (its process is gone); the next scan resumes it")
    attempts = settings.scan.retry_attempts
    given_up = store.given_up(attempts) if "items" in tables else {}
    for (name, code), count in sorted(given_up.items()):
        warnings.append(f"bron {name}: {count} items opgegeven na {attempts} pogingen ({code}) "
                        f"/ {count} items given up after {attempts} attempts")
    return {
        "runs": [{
            "id": r["id"], "status": r["status"], "started_at": as_utc(r["started_at"]),
            "finished_at": as_utc(r["finished_at"]),
            "seconds": (r["finished_at"] - r["started_at"]).total_seconds() if r["finished_at"] else None,
        } for r in runs],
        "last_run_failed": bool(last and last["status"] == "failed"),
        "last_run_status": last["status"] if last else None,
        "last_success": last_success,
        "stale": stale,
        "errors_per_source": [{"source": s, "code": c, "count": n} for (s, c), n in sorted(errors.items())],
        "warnings_per_source": [{"source": s, "code": c, "count": n} for (s, c), n in sorted(warned.items())],
        "given_up": [{"source": s, "code": c, "count": n} for (s, c), n in sorted(given_up.items())],
        "failing_streaks": streaks,
        "detection_mode": last["detection_mode"] if last else None,
        "detection_notice": last["detection_notice"] if last else None,
        "next_runs": next_runs(settings, now),
        "service": service,
        "database_bytes": store.size_bytes(),
        "retention": store.retention_counts() if "items" in tables else {},
        "warnings": warnings,
    }


def _service(store: Any, tables: set[str], settings: Settings) -> dict[str, Any] | None:
    """The scheduler service as the database knows it: who holds its lock, its planned runs."""
    from scanner.store.schema import JOB_TABLE
    from scanner.triggers import ScheduleError, school_timezone

    out: dict[str, Any] = {}
    holder = store.lock_holder("scheduler") if "locks" in tables else None
    if holder:
        out.update(pid=holder["pid"], host=holder["host"], heartbeat_at=holder["heartbeat_at"])
    if JOB_TABLE in tables:
        try:
            tz: Any = school_timezone(settings)
        except ScheduleError:
            tz = UTC
        out["planned"] = {job_id: when.astimezone(tz) if when is not None else None
                          for job_id, when in store.planned_jobs().items()}
    return out or None


def format_status(status: dict[str, Any]) -> str:
    lines = ["Laatste scans / last scans:"]
    for run in status["runs"] or []:
        seconds = _duration(run["seconds"])
        lines.append(f"  #{run['id']:<5} {run['status']:<11} {run['started_at']:%Y-%m-%d %H:%M} UTC  {seconds}")
    if not status["runs"]:
        lines.append("  (nog geen / none yet)")
    lines.append("Fouten per bron (laatste scan) / errors per source (last scan):")
    for error in status["errors_per_source"] or []:
        streak = status["failing_streaks"].get(error["source"])
        extra = f"  ({streak} scans op rij / in a row)" if streak and streak > 1 else ""
        lines.append(f"  {error['source']}: {error['code']} x{error['count']}{extra}")
    if not status["errors_per_source"]:
        lines.append("  geen / none")
    if status.get("warnings_per_source"):
        lines.append("Waarschuwingen per bron (laatste scan; items bewaard) / "
                     "warnings per source (last scan; items kept):")
        for warning in status["warnings_per_source"]:
            lines.append(f"  {warning['source']}: {warning['code']} x{warning['count']}")
    lines.append(f"Detectie / detection: {status['detection_mode'] or '-'}")
    lines.append("Volgende runs (schema) / next runs (schedule): "
                 + ", ".join(f"{k} {v or 'uit/off'}" for k, v in status["next_runs"].items()))
    service = status.get("service") or {}
    if service.get("pid"):
        lines.append(f"Planner / scheduler: pid {service['pid']} op/on {service['host']}, "
                     f"hartslag / heartbeat {service['heartbeat_at']:%Y-%m-%d %H:%M} UTC")
    if service.get("planned"):
        lines.append("Gepland door de planner / planned by the scheduler: " + ", ".join(
            f"{k} {v.isoformat(timespec='minutes')}" if v else f"{k} -" for k, v in sorted(service["planned"].items())))
    size = status["database_bytes"]
    lines.append(f"Database: {size / 1e6:.1f} MB" if size is not None else "Database: ?")
    retention = status["retention"]
    overdue, soon, ok = (retention.get(s.value, 0) for s in
                         (RetentionStatus.OVERDUE, RetentionStatus.DUE_SOON, RetentionStatus.OK))
    lines.append(f"Bewaartermijn / retention: {overdue} verlopen, {soon} binnenkort, {ok} ok")
    for warning in status["warnings"]:
        lines.append(f"LET OP / WARNING: {warning}")
    return "\n".join(lines)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
