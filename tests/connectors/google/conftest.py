"""Fixtures for the Google connector tests: the fake server, a key file, a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from connectors.base import ConnectorContext, SourceError
from connectors.google.client import GoogleApi
from connectors.google.config import GoogleMailConfig
from connectors.google.mail import GoogleMailConnector
from scanner.core.model import Blind, Cursor, Gone, Resync, Seen
from tests.services.fake_google import FakeGoogle

ADMIN = "ict@school.nl"


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as server:
        server.admins.add(ADMIN)
        yield server


@pytest.fixture
def key_file(fake: FakeGoogle, tmp_path: Path) -> Path:
    path = tmp_path / "google-sa.json"
    path.write_text(fake.key_json())
    path.chmod(0o600)
    return path


@dataclass
class FakeClock:
    now: float = 1_700_000_000.0
    waits: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def connection(fake: FakeGoogle, key_file: Path, **overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "service_account_key": {"file": str(key_file)},
        "admin_user": ADMIN,
        "api_endpoint": fake.base,
        "token_uri": fake.token_uri,
    }
    settings.update(overrides)
    return settings


def mail_connector(fake: FakeGoogle, key_file: Path, clock: FakeClock, context: ConnectorContext | None = None,
                   **overrides: Any) -> GoogleMailConnector:
    settings = {"name": "gmail", "kind": "google_mail", **connection(fake, key_file), **overrides}
    config = GoogleMailConfig(**settings)
    return GoogleMailConnector(config, context, api=GoogleApi(config, sleep=clock.sleep, clock=clock.time,
                                                             rng=lambda: 0.5))


@dataclass
class CrawlResult:
    events: dict[str, list[Any]]
    cursors: dict[str, str | None]
    errors: dict[str, SourceError]

    def seen(self) -> list[Any]:
        return [e.ref for events in self.events.values() for e in events if isinstance(e, Seen)]

    def gone(self) -> list[str]:
        return [e.item_key for events in self.events.values() for e in events if isinstance(e, Gone)]

    def resyncs(self) -> list[str]:
        return [u for u, events in self.events.items() if any(isinstance(e, Resync) for e in events)]

    def blind(self) -> list[Blind]:
        return [e for events in self.events.values() for e in events if isinstance(e, Blind)]

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        result = {}
        for unit, events in self.events.items():
            rows = []
            for e in events:
                if isinstance(e, Seen):
                    r = e.ref
                    rows.append(("seen", r.item_key, r.change_key, r.title, r.folder, r.owner, r.labels, r.link,
                                 r.size))
                elif isinstance(e, Gone):
                    rows.append(("gone", e.item_key))
            result[unit] = sorted(rows, key=repr)
        return result


def crawl_all(connector: Any, cursors: dict[str, str | None] | None = None) -> CrawlResult:
    cursors = cursors or {}
    result = CrawlResult({}, {}, {})
    for unit in connector.units():
        try:
            events = list(connector.crawl(unit, cursors.get(unit.key)))
        except SourceError as exc:
            result.errors[unit.key] = exc
            continue
        assert events and isinstance(events[-1], Cursor), unit.key
        assert sum(isinstance(e, Cursor) for e in events) == 1
        result.events[unit.key] = events[:-1]
        result.cursors[unit.key] = events[-1].value
    return result


def drive_connector(fake: FakeGoogle, key_file: Path, clock: FakeClock, context: ConnectorContext | None = None,
                    **overrides: Any) -> Any:
    from connectors.google.config import GoogleDriveConfig
    from connectors.google.drive import GoogleDriveConnector

    settings = {"name": "gdrive", "kind": "google_drive", **connection(fake, key_file), **overrides}
    config = GoogleDriveConfig(**settings)
    return GoogleDriveConnector(config, context, api=GoogleApi(config, sleep=clock.sleep, clock=clock.time,
                                                              rng=lambda: 0.5))
