"""The local process pool gives exactly the stored result of an inline run, also when a
worker process is killed in the middle of the scan."""

from __future__ import annotations

import pytest

from scanner.jobs import run_scan
from tests.executors.helpers import Killer, pool_workers, run_config, snapshot

pytestmark = pytest.mark.slow


def test_pool_with_a_killed_worker_equals_inline(reference) -> None:
    settings, url = run_config(reference, "pool", {"kind": "pool", "workers": 2})
    killer = Killer(url, pool_workers)
    killer.start()
    try:
        assert run_scan(settings, progress=False, echo=lambda _: None) == 0
    finally:
        killer.done.set()
        killer.join()
    assert killer.killed is not None, "no worker was killed during the run"
    got = snapshot(url)
    assert got.items == reference.expected.items
    assert got.findings == reference.expected.findings
    assert got.errors == reference.expected.errors
