"""Upgrading a database that earlier code made to the current schema head, on SQLite and
PostgreSQL.

The starting point is what main at 1413318 left behind (header of
``data/main-1413318-rev0002.sql``): store revision 0002, ``it_notifications`` created outside
Alembic by the old ``scanner.notify``, and APScheduler jobs pickled under
``scanner.scheduling``. Opening it with today's :class:`Store` must migrate it without losing
a row, leave a schema equal to the declared one, and the notifications, the service and
``schoonschip status`` must carry on from the stored state.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    select,
    text,
)

from scanner.notify import notify_it, notify_job_ok
from scanner.scheduling import ScheduleService
from scanner.status import collect_status
from scanner.store import open_store
from scanner.store.migrate import current_revision, head_revision, include_object
from scanner.store.schema import metadata
from tests.operations.conftest import make_settings

DUMP = Path(__file__).with_name("data") / "main-1413318-rev0002.sql"
AMS = ZoneInfo("Europe/Amsterdam")
COPIED = ("runs", "source_errors", "it_notifications", "schedule_jobs")  # the rows the dump holds

# The two tables that main at 1413318 created outside the migrations, exactly as it declared
# them (scanner.notify.notifications, and APScheduler 3's SQLAlchemyJobStore table).
OLD_EXTERNAL = MetaData()
Table("it_notifications", OLD_EXTERNAL,
      Column("key", String(300), primary_key=True),
      Column("scope", String(32), nullable=False),
      Column("active", Boolean, nullable=False),
      Column("first_seen", DateTime(timezone=True), nullable=False),
      Column("last_seen", DateTime(timezone=True), nullable=False),
      Column("last_sent_day", String(10)),
      Column("summary", String(500)))
Table("schedule_jobs", OLD_EXTERNAL,
      Column("id", String(191), primary_key=True),
      Column("next_run_time", Float(25), index=True),
      Column("job_state", LargeBinary, nullable=False))


def old_database(url: str, tmp_path: Path) -> str:
    """The fixture database at ``url``: loaded as dumped (SQLite), or rebuilt from the old
    migrations and the old DDL with the dump's rows (PostgreSQL). Returns the URL to use."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.executescript(DUMP.read_text(encoding="utf-8"))
        return url
    from alembic import command

    from scanner.store.migrate import alembic_config

    source_file = tmp_path / "dump.sqlite"
    with sqlite3.connect(source_file) as conn:
        conn.executescript(DUMP.read_text(encoding="utf-8"))
    source = create_engine(f"sqlite:///{source_file}")
    target = create_engine(url)
    command.upgrade(alembic_config(target), "0002")
    OLD_EXTERNAL.create_all(target)
    found = MetaData()
    found.reflect(source, only=COPIED)
    wanted = MetaData()
    wanted.reflect(target, only=COPIED)
    with source.connect() as read, target.begin() as write:
        for name in COPIED:
            rows = [dict(row) for row in read.execute(select(found.tables[name])).mappings()]
            write.execute(insert(wanted.tables[name]), rows)
        for name in ("runs", "source_errors"):  # serial ids continue after the copied rows
            write.execute(text(f"select setval(pg_get_serial_sequence('{name}', 'id'), (select max(id) from {name}))"))
    source.dispose()
    target.dispose()
    return url


def test_a_database_of_the_previous_release_upgrades_without_losing_state(database_url, tmp_path):
    url = old_database(database_url, tmp_path)
    settings = make_settings(
        tmp_path, database_url=url,
        sources=[{"kind": "folder", "name": "schijf-h", "path": "/nonexistent/share", "owner": "y@school.nl"}],
        delivery={"method": "outbox"},
        notify={"it_recipients": ["ict@school.nl"], "failing_source_runs": 1})
    probe = create_engine(url)
    assert current_revision(probe) == "0002"
    probe.dispose()

    store = open_store(settings)  # migrates to head
    assert current_revision(store.engine) == head_revision() != "0002"
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(
            conn, opts={"include_object": include_object}), metadata) == []

    # the IT problems the old code recorded are still known: nothing is mailed twice today ...
    notes = store.it_notifications()
    assert {key: row["active"] for key, row in notes.items()} == {
        "run_failed": True, "source:schijf-h": True, "job:digest": True}
    assert notes["job:digest"]["last_sent_day"] == "2026-11-30"
    assert notify_it(settings, store, 1, now=datetime(2026, 11, 30, 9, 0, tzinfo=AMS)) is False
    # ... and solved problems are reported as solved, once
    run_id = store.begin_run("scan", pid=1, host="test")
    assert run_id == 2
    store.finish_run(run_id, "completed", {})
    assert notify_it(settings, store, run_id, now=datetime(2026, 12, 1, 3, 0, tzinfo=AMS)) is True
    assert notify_job_ok(settings, store, "digest", now=datetime(2026, 12, 1, 7, 0, tzinfo=AMS)) is True
    assert not any(row["active"] for row in store.it_notifications().values())
    mails = sorted(p.read_text(encoding="utf-8") for p in settings.outbox_dir.glob("it-*.eml"))
    assert len(mails) == 2 and all("opgelost / solved" in mail for mail in mails)

    # the service unpickles the old jobs and keeps their planned runs; status reads them
    planned = {"scan": datetime(2026, 12, 1, 2, 0, tzinfo=AMS), "report": datetime(2026, 12, 1, 8, 0, tzinfo=AMS),
               "digest": datetime(2026, 12, 7, 7, 0, tzinfo=AMS)}
    assert store.planned_jobs() == {k: v.astimezone(UTC) for k, v in planned.items()}
    service = ScheduleService(settings, store.engine, clock=_Clock(datetime(2026, 11, 30, 13, 0, tzinfo=AMS)))
    service.start()
    assert service.next_runs() == planned
    status = collect_status(settings, now=datetime(2026, 11, 30, 13, 0, tzinfo=AMS))
    assert status["service"]["planned"] == planned
    assert [run["status"] for run in status["runs"]] == ["completed", "failed"]
    service.shutdown()  # disposes the engine
    store.close()


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def wait(self, seconds: float, stop) -> None:
        stop.set()
