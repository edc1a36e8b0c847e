"""Scans through a real local Dask cluster (scheduler and two workers as separate processes)
store exactly what an inline run stores, also when a worker process is killed mid-run."""

from __future__ import annotations

import pytest

from scanner.executors.dask import DaskExecutor
from scanner.jobs import run_scan
from tests.executors.dask_cluster import local_cluster
from tests.executors.helpers import Killer, measure_overlaps, run_config, snapshot

pytestmark = [pytest.mark.slow, pytest.mark.service]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from tests.conftest import allow_skip
    from tests.executors.dask_cluster import dask_binary

    try:
        dask_binary()
    except RuntimeError:
        if allow_skip():
            pytest.skip("dask[distributed] is not installed")
        raise
    with local_cluster(tmp_path_factory.mktemp("dask"), preload=("tests.executors.poison",)) as running:
        yield running


def test_dask_with_a_killed_worker_equals_inline(reference, cluster) -> None:
    settings, url = run_config(reference, "dask", {"kind": "dask", "dask_scheduler": cluster.address})
    killer = Killer(url, cluster.worker_processes)
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



def test_per_mailbox_limit_holds_across_workers(tmp_path, cluster) -> None:
    def make(spec, limit):
        return DaskExecutor(spec, address=cluster.address, per_key_limit=limit)

    limited, unlimited = measure_overlaps(tmp_path, make)
    assert limited["all"] == 2  # both workers were busy at once ...
    assert limited["a"] == 1 and limited["b"] == 1  # ... but never on the same mailbox
    assert max(unlimited["a"], unlimited["b"]) == 2  # the limit, not chance, kept them apart
