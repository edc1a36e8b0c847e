"""Shared test fixtures: everything runs offline, in temporary folders, against real servers."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def allow_skip() -> bool:
    """Missing servers fail the suite unless SCHOONSCHIP_ALLOW_SKIP=1 (for quick local runs)."""
    return os.environ.get("SCHOONSCHIP_ALLOW_SKIP") == "1"


@pytest.fixture(scope="session")
def postgres_url():
    from tests.services.postgres import postgres_bin, running_postgres

    if postgres_bin() is None and allow_skip():
        pytest.skip("PostgreSQL not installed")
    with running_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Each storage test runs against SQLite and against a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'schoonschip.sqlite'}"
    from tests.services.postgres import reset_database

    url = request.getfixturevalue("postgres_url")
    reset_database(url)
    return url
