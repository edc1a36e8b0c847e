"""Fixtures for the IMAP connector tests: one Dovecot per test module, fresh mail per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dovecot_server import Dovecot, start_dovecot, stop_dovecot


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Dovecot:
    server = start_dovecot(tmp_path_factory.mktemp("dovecot"))
    yield server
    stop_dovecot(server)
