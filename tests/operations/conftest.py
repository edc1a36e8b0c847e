"""Fixtures for the scheduling and operations tests: a controllable clock and settings."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scanner.config import load_config

AMS = ZoneInfo("Europe/Amsterdam")


class FakeClock:
    """The service's clock under test control: waiting moves time forward at once.

    ``until`` ends the service loop (sets its stop event) once the simulated time passes it,
    the way SIGTERM would; nothing ever sleeps for real.
    """

    def __init__(self, start: datetime, until: datetime | None = None) -> None:
        self.current = start.astimezone(UTC)
        self.until = until.astimezone(UTC) if until else None
        self.waits = 0

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta

    def wait(self, seconds: float, stop: threading.Event) -> None:
        self.waits += 1
        self.current += timedelta(seconds=seconds)
        if self.until is not None and self.current >= self.until:
            self.current = max(self.current, self.until)
            stop.set()


def local(*args: int) -> datetime:
    """A wall-clock time in Amsterdam (fold 0: the first of a repeated hour)."""
    return datetime(*args, tzinfo=AMS)


def make_settings(tmp_path: Path, database_url: str | None = None, **overrides: Any):
    data: dict[str, Any] = {"state_dir": str(tmp_path / "state"), "school": {"name": "Testschool"}}
    if database_url:
        data["database"] = {"url": database_url}
    for key, value in overrides.items():
        data[key] = value
    return load_config(None, overrides=data)


@pytest.fixture
def settings_factory(tmp_path):
    def factory(**overrides: Any):
        return make_settings(tmp_path, **overrides)

    return factory
