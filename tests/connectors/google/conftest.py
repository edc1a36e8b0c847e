"""Fixtures for the Google connector tests: the fake server, a key file, a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.base import ConnectorContext
from connectors.google.client import GoogleApi
from connectors.google.config import GoogleMailConfig
from connectors.google.mail import GoogleMailConnector
from tests.crawling import FakeClock
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




def drive_connector(fake: FakeGoogle, key_file: Path, clock: FakeClock, context: ConnectorContext | None = None,
                    **overrides: Any) -> Any:
    from connectors.google.config import GoogleDriveConfig
    from connectors.google.drive import GoogleDriveConnector

    settings = {"name": "gdrive", "kind": "google_drive", **connection(fake, key_file), **overrides}
    config = GoogleDriveConfig(**settings)
    return GoogleDriveConnector(config, context, api=GoogleApi(config, sleep=clock.sleep, clock=clock.time,
                                                              rng=lambda: 0.5))
