"""An item that kills every worker that touches it is isolated and recorded as ``worker_lost``;
the other items of its batch, and of the batches running beside it, are analysed normally and
every batch is reported exactly once. The per-mailbox limit holds across the pool's workers."""

from __future__ import annotations

from collections import Counter

import pytest

from scanner.executors import Work
from scanner.executors.pool import PoolExecutor
from tests.executors.helpers import measure_overlaps, poison_share

pytestmark = pytest.mark.slow


def test_poison_item_is_isolated_and_lost_alone(tmp_path) -> None:
    _, refs, spec = poison_share(tmp_path, clean=11)
    work = [Work(refs[i:i + 4], tag=i // 4, concurrency_key="share") for i in range(0, len(refs), 4)]

    with PoolExecutor(spec, workers=2, per_key_limit=2, max_attempts=2,
                      preload=("tests.executors.poison",)) as pool:
        mode, _ = pool.detection_mode
        reported = list(pool.run(work))
        restarts = pool.restarts

    assert mode
    assert Counter(tag for tag, _ in reported) == {0: 1, 1: 1, 2: 1}
    results = {r.ref.item_key: r for _, batch in reported for r in batch}
    assert sorted(results) == sorted(ref.item_key for ref in refs)
    lost = {key for key, r in results.items() if any(e.code == "worker_lost" for e in r.errors)}
    assert lost == {"poison.txt"}
    for key, result in results.items():
        if key != "poison.txt":
            assert not result.errors and result.content_hash and result.verdict is not None
            assert result.verdict.student_data
    # max_attempts as a batch, then max_attempts alone: four dead workers, each replaced
    assert restarts == 4


def test_per_mailbox_limit_holds_across_workers(tmp_path) -> None:
    def make(spec, limit):
        pool = PoolExecutor(spec, workers=2, per_key_limit=limit, preload=("tests.executors.poison",))
        pool.wait_ready()  # both workers can take a batch from the start
        return pool

    limited, unlimited = measure_overlaps(tmp_path, make)
    assert limited["all"] == 2  # both workers were busy at once ...
    assert limited["a"] == 1 and limited["b"] == 1  # ... but never on the same mailbox
    assert max(unlimited["a"], unlimited["b"]) == 2  # the limit, not chance, kept them apart


def test_workers_share_one_extraction_cache(tmp_path) -> None:
    """The same report in every batch is extracted by at most one worker each before the
    first entry reaches the driver's cache; every later copy is answered from it, whichever
    worker reads it. The results are those of a run without a shared cache."""
    from scanner.analysis import Analyzer

    _, refs, spec = poison_share(tmp_path, clean=12)
    share = tmp_path / "share"
    (share / "poison.txt").unlink()
    same = "Klassenlijst: Sanne de Vries, BSN 999990019.\n"
    for path in share.glob("verslag-*.txt"):
        path.write_text(same, encoding="utf-8")
    refs = [ref for ref in refs if not ref.item_key.startswith("poison")]
    work = [Work(refs[i:i + 2], tag=i // 2, concurrency_key=None) for i in range(0, len(refs), 2)]

    with PoolExecutor(spec, workers=2, preload=("tests.executors.poison",)) as pool:
        pool.wait_ready()
        results = {r.ref.item_key: r for _, batch in pool.run(work) for r in batch}
        hits, entries = pool.cache.hits, len(pool.cache)
    assert len(pool.cache) == 0  # the run's extracted text goes with the pool

    assert entries == 1
    assert hits >= len(refs) - 2  # at most one miss per worker
    import tests.executors.poison  # noqa: F401 - the plug-in kind, for the in-process analyzer

    alone = Analyzer(spec)
    try:
        expected = {r.ref.item_key: r for r in alone.analyse(refs)}
    finally:
        alone.close()
    assert sorted(results) == sorted(expected)
    for key, result in results.items():
        assert result.content_hash == expected[key].content_hash
        assert result.verdict is not None and expected[key].verdict is not None
        assert result.verdict.findings == expected[key].verdict.findings
        assert result.errors == expected[key].errors
