"""Fixtures for the EWS connector tests: a fake Exchange (fake_ews.py) per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_ews import JUF, MEESTER, SERVICE_PASSWORD, SERVICE_USER, FakeEwsServer, FakeExchange


@pytest.fixture
def exchange() -> FakeExchange:
    exchange = FakeExchange(SERVICE_USER, SERVICE_PASSWORD)
    exchange.add_mailbox(JUF)
    exchange.add_mailbox(MEESTER)
    return exchange


@pytest.fixture
def ews_server(exchange: FakeExchange) -> FakeEwsServer:
    server = FakeEwsServer(exchange).start()
    yield server
    server.stop()
