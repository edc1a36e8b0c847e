"""``schoonschip status``: through the real CLI, on an empty and on a used database."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from click.testing import CliRunner
from sqlalchemy import update

from scanner.cli import build_cli
from scanner.config import load_config
from scanner.scheduling import ScheduleService
from scanner.status import collect_status
from scanner.store import Store, open_store
from scanner.store import schema as s
from tests.operations.conftest import FakeClock, local


def write_config(tmp_path: Path, **extra) -> Path:
    data = {"school": {"name": "Testschool"}, "state_dir": str(tmp_path / "state"),
            "sources": [{"kind": "folder", "name": "schijf-h", "path": str(tmp_path), "owner": "it@school.nl"}],
            **extra}
    path = tmp_path / "schoonschip.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def status_cli(config: Path, *args: str):
    return CliRunner().invoke(build_cli(), ["status", "--config", str(config), *args])


def test_status_before_anything_ran_touches_nothing(tmp_path):
    config = write_config(tmp_path)
    result = status_cli(config)
    assert result.exit_code == 0, result.output
    assert "nog geen / none yet" in result.output
    assert "scan 20" in result.output  # the next scan from the configured schedule
    assert not (tmp_path / "state").exists(), "status must not create the database"
    as_json = json.loads(status_cli(config, "--format", "json").output)
    assert as_json["runs"] == [] and as_json["stale"] is False and as_json["last_run_failed"] is False


def test_status_on_an_empty_postgres_like_schema(tmp_path):
    """A database that exists but has no tables yet (e.g. a fresh PostgreSQL database)."""
    config = write_config(tmp_path)
    settings = load_config(config)
    settings.state_dir.mkdir(parents=True)
    open_store(settings, create=False).engine.connect().close()  # creates the empty file
    status = collect_status(settings)
    assert status["runs"] == [] and status["warnings"]


def finished_run(store: Store, status: str, started: datetime, minutes: int, errors: int = 0) -> int:
    run_id = store.begin_run("scan", pid=1, host="test", detection_mode="presidio+spacy")
    for _ in range(errors):
        store.record_source_error(run_id, "schijf-h", None, "unreachable", "x")
    store.finish_run(run_id, status, {}, "OperationalError" if status == "failed" else None)
    with store.engine.begin() as conn:
        conn.execute(update(s.runs).where(s.runs.c.id == run_id).values(
            started_at=started, finished_at=started + timedelta(minutes=minutes)))
    return run_id


def test_failed_last_run_gives_exit_code_4(tmp_path, database_url):
    config = write_config(tmp_path, database={"url": database_url})
    settings = load_config(config)
    store = open_store(settings)
    now = datetime.now(UTC)
    finished_run(store, "completed", now - timedelta(days=1), 90)
    finished_run(store, "failed", now - timedelta(hours=3), 12, errors=2)
    store.close()
    result = status_cli(config)
    assert result.exit_code == 4, result.output
    assert "failed" in result.output and "0:12:00" in result.output and "1:30:00" in result.output
    assert "schijf-h: unreachable x2" in result.output
    assert "presidio+spacy" in result.output
    assert "LET OP / WARNING: laatste scan #2 mislukt" in result.output
    size = json.loads(status_cli(config, "--format", "json").output)["database_bytes"]
    assert size > 0


def test_stale_warning_when_the_last_success_is_older_than_two_days(tmp_path):
    config = write_config(tmp_path)
    settings = load_config(config)
    store = open_store(settings)
    now = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
    finished_run(store, "completed", now - timedelta(days=3), 60)
    finished_run(store, "interrupted", now - timedelta(days=1), 60)
    status = collect_status(settings, now=now)
    assert status["stale"] is True and status["last_run_failed"] is False
    assert any("geen geslaagde scan in 2 dagen" in w for w in status["warnings"])
    fresh = collect_status(settings, now=now - timedelta(days=1, hours=12))
    assert fresh["stale"] is False
    store.close()


def test_status_shows_what_the_scheduler_service_planned(tmp_path):
    config = write_config(tmp_path, schedule={"scan": "0 3 * * *", "digest": "off", "report": "0 8 1 * *"})
    settings = load_config(config)
    store = open_store(settings)
    service = ScheduleService(settings, store.engine, clock=FakeClock(local(2027, 1, 4, 1, 0)),
                              actions={})
    service.start()
    service.run_pending(threading.Event())
    store.close()
    status = collect_status(settings, now=datetime(2027, 1, 4, 0, 0, tzinfo=UTC))
    assert status["next_runs"]["scan"] == "2027-01-04T03:00+01:00"
    assert status["next_runs"]["digest"] is None
    assert status["service"]["planned"]["scan"] == local(2027, 1, 4, 3, 0)
    assert "digest" not in status["service"]["planned"]
    result = status_cli(config)
    planned = "planned by the scheduler: report 2027-02-01T08:00+01:00, scan 2027-01-04T03:00+01:00"
    assert planned in result.output


def test_silent_scheduler_is_reported(tmp_path):
    """A service that died without releasing its lock: its heartbeat stops, status says so."""
    from scanner.store.lock import acquire

    config = write_config(tmp_path)
    settings = load_config(config)
    store = open_store(settings)
    finished_run(store, "completed", datetime.now(UTC) - timedelta(hours=5), 30)
    acquire(store, "scheduler")  # never released, never beats again
    soon = collect_status(settings, now=datetime.now(UTC) + timedelta(minutes=1))
    assert not any("sign of life" in w for w in soon["warnings"])
    later = collect_status(settings, now=datetime.now(UTC) + timedelta(minutes=10))
    assert any("sign of life" in w for w in later["warnings"])
    assert later["service"]["pid"] > 0
    store.close()
