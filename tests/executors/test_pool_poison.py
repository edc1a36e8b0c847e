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


def test_workers_see_the_environment_and_folder_of_the_driver_now(tmp_path, monkeypatch) -> None:
    """Workers are forked from a forkserver that started with the driver's first pool; a later
    pool's workers must still see the driver's environment and working directory of the moment
    they start, as spawned workers did (the sandbox is started from that environment)."""
    _, refs, spec = poison_share(tmp_path, clean=0)
    (tmp_path / "share" / "poison.txt").rename(tmp_path / "share" / "env.txt")
    from connectors.base import ConnectorContext
    from scanner.core.model import Seen
    from tests.executors.poison import PoisonConfig, PoisonFolderConnector

    config = PoisonConfig(name="share", kind="poison_folder", path=tmp_path / "share", owner="ib@school.nl")
    with PoisonFolderConnector(config, ConnectorContext()) as connector:
        refs = [event.ref for unit in connector.units() for event in connector.crawl(unit, None)
                if isinstance(event, Seen)]
    log = tmp_path / "environment.log"

    def scan() -> str:
        with PoolExecutor(spec, workers=1, preload=("tests.executors.poison",)) as pool:
            list(pool.run([Work(refs, tag=0, concurrency_key=None)]))
        return log.read_text(encoding="utf-8").splitlines()[-1]

    monkeypatch.delenv("SCHOONSCHIP_TEST_MARK", raising=False)
    first = scan()
    elsewhere = tmp_path / "elders"
    elsewhere.mkdir()
    monkeypatch.setenv("SCHOONSCHIP_TEST_MARK", "tweede")
    monkeypatch.chdir(elsewhere)
    second = scan()
    assert first.split(" ", 1)[0] == "-"
    assert second == f"tweede {elsewhere}"
