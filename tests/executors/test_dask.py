"""Scans through a real local Dask cluster (scheduler and two workers as separate processes)
store exactly what an inline run stores, also when a worker process is killed mid-run; the
per-mailbox limit holds across workers; an item that kills every worker that runs it is isolated
and stored as ``worker_lost`` while its neighbours are analysed normally."""

from __future__ import annotations

import pytest

from scanner.executors.dask import DaskExecutor
from tests.executors.dask_cluster import local_cluster
from tests.executors.helpers import assert_killed_worker_run_equals_inline, measure_overlaps

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
    assert_killed_worker_run_equals_inline(reference, "dask", {"kind": "dask", "dask_scheduler": cluster.address},
                                           cluster.worker_processes)



def test_per_mailbox_limit_holds_across_workers(tmp_path, cluster) -> None:
    def make(spec, limit):
        return DaskExecutor(spec, address=cluster.address, per_key_limit=limit)

    limited, unlimited = measure_overlaps(tmp_path, make)
    assert limited["all"] == 2  # both workers were busy at once ...
    assert limited["a"] == 1 and limited["b"] == 1  # ... but never on the same mailbox
    assert max(unlimited["a"], unlimited["b"]) == 2  # the limit, not chance, kept them apart


def test_poison_item_is_isolated_and_lost_alone(tmp_path, cluster) -> None:
    from collections import Counter

    from scanner.executors import Work
    from tests.executors.helpers import poison_share

    _, refs, spec = poison_share(tmp_path, clean=7)
    work = [Work(refs[i:i + 4], tag=i // 4) for i in range(0, len(refs), 4)]
    with DaskExecutor(spec, address=cluster.address) as executor:
        reported = list(executor.run(work))
        lost_batches = executor.lost_batches

    assert Counter(tag for tag, _ in reported) == {0: 1, 1: 1}
    results = {r.ref.item_key: r for _, batch in reported for r in batch}
    assert sorted(results) == sorted(ref.item_key for ref in refs)
    lost = {key for key, r in results.items() if any(e.code == "worker_lost" for e in r.errors)}
    assert lost == {"poison.txt"} and lost_batches == 1
    for key, result in results.items():
        if key != "poison.txt":
            assert not result.errors and result.content_hash and result.verdict.student_data


def test_unreachable_scheduler_is_a_clear_error() -> None:
    import socket

    from scanner.executors.dask import DaskConfigError

    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from scanner.analysis import AnalysisSpec
    from scanner.config import Settings

    defaults = Settings()
    spec = AnalysisSpec(sources=(), detection=defaults.detection, extraction=defaults.extraction, secret=b"k" * 32)
    executor = DaskExecutor(spec, address=f"tcp://127.0.0.1:{port}", connect_timeout=2)
    with pytest.raises(DaskConfigError, match="niet bereikbaar / Dask scheduler"):
        executor.detection_mode  # noqa: B018 - reading the property is the call under test
