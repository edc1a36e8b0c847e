"""A run lock in the database, so two scans never work on the same store at once.

Why in the database and not a lock file: the database is the one thing every runner shares
(cron on one server, the scheduler service on another, a Dask driver), and it works the same
on SQLite and PostgreSQL. A lock whose holder died is recovered: on the same host when its
pid no longer runs, anywhere when its heartbeat is older than ``stale_after``.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psutil
from sqlalchemy import RowMapping, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from scanner.core.dates import as_utc
from scanner.store import schema as s
from scanner.store.store import Store, utcnow


class LockedError(Exception):
    """Another live process holds the lock."""

    def __init__(self, pid: int, host: str, since: datetime) -> None:
        self.pid, self.host, self.since = pid, host, since
        super().__init__(f"locked by pid {pid} on {host} since {since.isoformat(timespec='seconds')}")


@dataclass
class RunLock:
    store: Store
    name: str
    token: str
    recovered_from: int | None = None

    def heartbeat(self) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(update(s.locks).where(s.locks.c.name == self.name, s.locks.c.token == self.token)
                         .values(heartbeat_at=utcnow()))

    def release(self) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(delete(s.locks).where(s.locks.c.name == self.name, s.locks.c.token == self.token))

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire(store: Store, name: str = "scan", stale_after: timedelta = timedelta(hours=2)) -> RunLock:
    """Take the lock ``name`` or raise :class:`LockedError` naming its live holder."""
    host, pid = socket.gethostname(), os.getpid()
    token = secrets.token_hex(16)
    for _ in range(3):
        with store.engine.begin() as conn:
            row = conn.execute(select(s.locks).where(s.locks.c.name == name)).mappings().first()
            now = utcnow()
            if row is None:
                try:
                    conn.execute(insert(s.locks).values(name=name, pid=pid, host=host, token=token,
                                                        acquired_at=now, heartbeat_at=now))
                except IntegrityError:
                    continue
                return RunLock(store, name, token)
            if not _is_stale(row, host, stale_after, now):
                raise LockedError(row["pid"], row["host"], as_utc(row["acquired_at"]) or now)
            taken = conn.execute(update(s.locks).where(s.locks.c.name == name, s.locks.c.token == row["token"])
                                 .values(pid=pid, host=host, token=token, acquired_at=now, heartbeat_at=now))
            if taken.rowcount == 1:
                return RunLock(store, name, token, recovered_from=row["pid"])
    raise LockedError(0, "?", utcnow())


def _is_stale(row: RowMapping, host: str, stale_after: timedelta, now: datetime) -> bool:
    if row["host"] == host and not _alive(row["pid"]):
        return True
    heartbeat = as_utc(row["heartbeat_at"]) or datetime.min.replace(tzinfo=UTC)
    return now - heartbeat > stale_after


def _alive(pid: int) -> bool:
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
