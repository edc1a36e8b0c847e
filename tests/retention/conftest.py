"""Fixtures for the retention tests."""

from __future__ import annotations

from datetime import date

import pytest

from scanner.retention import RetentionPolicy, RetentionSettings


@pytest.fixture
def policy() -> RetentionPolicy:
    """The default policy, judged on 10 September 2025."""
    return RetentionPolicy(RetentionSettings(), today=date(2025, 9, 10))
