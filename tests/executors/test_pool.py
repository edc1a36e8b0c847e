"""The local process pool gives exactly the stored result of an inline run, also when a
worker process is killed in the middle of the scan."""

from __future__ import annotations

import pytest

from tests.executors.helpers import assert_killed_worker_run_equals_inline, pool_workers

pytestmark = pytest.mark.slow


def test_pool_with_a_killed_worker_equals_inline(reference) -> None:
    assert_killed_worker_run_equals_inline(reference, "pool", {"kind": "pool", "workers": 2}, pool_workers)
