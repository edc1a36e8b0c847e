"""``schoonschip status``: what monitoring and IT need to know at a glance."""

from __future__ import annotations

import os
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scanner.config import Settings


def next_runs(settings: Settings, now: datetime | None = None) -> dict[str, str | None]:
    """Next fire time of each scheduled job, in the school's time zone."""
    from apscheduler.triggers.cron import CronTrigger

    now = now or datetime.now(timezone.utc)
    out: dict[str, str | None] = {}
    for job in ("scan", "digest", "report"):
        expression = getattr(settings.schedule, job)
        trigger = CronTrigger.from_crontab(expression, timezone=settings.school.timezone)
        fire = trigger.get_next_fire_time(None, now.astimezone(trigger.timezone))
        out[job] = fire.isoformat() if fire else None
    return out


def database_size(settings: Settings, store: Any) -> int | None:
    if store.dialect == "sqlite":
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file()) if path.exists() else 0
    if store.dialect == "postgresql":
        from sqlalchemy import text

        with store.engine.connect() as conn:
            return int(conn.execute(text("select pg_database_size(current_database())")).scalar() or 0)
    return None


def collect_status(settings: Settings) -> dict[str, Any]:
    from scanner.store import Store

    store = Store(settings.database_url)
    runs = store.runs("scan", limit=10)
    last = runs[0] if runs else None
    errors: Counter = Counter()
    if last:
        for error in store.source_errors(last["id"]):
            errors[(error["source"], error["code"])] += 1
    return {
        "runs": [{
            "id": r["id"], "status": r["status"], "started_at": r["started_at"], "finished_at": r["finished_at"],
            "seconds": (r["finished_at"] - r["started_at"]).total_seconds() if r["finished_at"] else None,
        } for r in runs],
        "last_run_failed": bool(last and last["status"] == "failed"),
        "errors_per_source": [{"source": s, "code": c, "count": n} for (s, c), n in sorted(errors.items())],
        "detection_mode": last["detection_mode"] if last else None,
        "detection_notice": last["detection_notice"] if last else None,
        "next_runs": next_runs(settings),
        "database_bytes": database_size(settings, store),
        "retention": store.retention_counts(),
        "pid": os.getpid(),
    }


def format_status(status: dict[str, Any]) -> str:
    lines = ["Laatste runs / last runs:"]
    for run in status["runs"] or []:
        seconds = f"{run['seconds']:.0f} s" if run["seconds"] is not None else "-"
        lines.append(f"  #{run['id']:<5} {run['status']:<11} {run['started_at']:%Y-%m-%d %H:%M}  {seconds}")
    if not status["runs"]:
        lines.append("  (nog geen / none yet)")
    lines.append("Fouten per bron (laatste run) / errors per source (last run):")
    for error in status["errors_per_source"] or []:
        lines.append(f"  {error['source']}: {error['code']} x{error['count']}")
    if not status["errors_per_source"]:
        lines.append("  geen / none")
    lines.append(f"Detectie / detection: {status['detection_mode'] or '-'}")
    lines.append("Volgende runs / next runs: " + ", ".join(f"{k} {v}" for k, v in status["next_runs"].items()))
    size = status["database_bytes"]
    lines.append(f"Database: {size / 1e6:.1f} MB" if size is not None else "Database: ?")
    retention = status["retention"]
    lines.append(f"Bewaartermijn / retention: {retention.get('verlopen', 0)} verlopen, "
                 f"{retention.get('binnenkort', 0)} binnenkort, {retention.get('ok', 0)} ok")
    return "\n".join(lines)
