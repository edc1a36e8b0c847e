"""Interleaved crawling (issue 21 item 3): several units, and several sources, at once.

The driver crawls up to ``INTERLEAVE_UNITS`` units of a source whose connector allows it
(``Connector.parallel_units``), round robin, and round robin over sources. What the store says
must not depend on it: the same store as a run that crawls one unit at a time, per-unit
bookkeeping (completion, cursor, closing the unseen) exactly as before, also when one unit
breaks off while others are half way, and under the seeded fault schedules and kills of
``test_convergence`` and the resumed runs of ``test_truth``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from scanner import pipeline
from scanner.core.model import Unit
from scanner.executors import Executor, Work
from scanner.executors.inline import InlineExecutor
from scanner.pipeline import INTERLEAVE_UNITS, ScanRunner
from scanner.store import Store, open_store
from tests.convergence import store_snapshot
from tests.pipeline import memory_source
from tests.pipeline.conftest import settings_for
from tests.pipeline.memory_source import WORLDS, Faults, MemoryConnector
from tests.pipeline.test_convergence import SEEDS
from tests.pipeline.test_convergence import (
    test_once_faults_stop_the_next_run_equals_a_clean_run as _converges,
)
from tests.pipeline.test_truth import content, make_world, source
from tests.pipeline.test_truth import (
    test_a_resumed_run_crawls_again_a_unit_it_finished_blind as _resumes_blind,
)
from tests.pipeline.test_truth import test_a_resumed_run_reports_the_whole_run as _resumes


class Recording(Executor):
    """The inline executor, noting which source and unit each batch came from, in order."""

    name = "inline"

    def __init__(self, spec: Any) -> None:
        super().__init__(spec)
        self.inner = InlineExecutor(spec)
        self.order: list[tuple[str, str]] = []

    def run(self, work: Iterable[Work]) -> Iterator[tuple[Any, list[Any]]]:
        def noted() -> Iterator[Work]:
            for batch in work:
                self.order.append((batch.tag.source.name, batch.tag.unit.key))
                yield batch
        yield from self.inner.run(noted())

    @property
    def detection_mode(self) -> tuple[str, str | None]:
        return self.inner.detection_mode

    def close(self) -> None:
        self.inner.close()


def world(name: str = "w", folders: str = "ABCDEF", per_folder: int = 12, broken: Iterable[str] = ()) -> None:
    make_world(name, folders, per_folder).faults = Faults(unit_error=set(broken))


def scanned(tmp_path, sources: list[dict], name: str, **worlds: Any) -> tuple[Recording, Any, Any]:
    """A scan with batches of two items (so a unit gives several batches)."""
    for world_name, kwargs in worlds.items():
        world(world_name, **kwargs)
    settings = settings_for(tmp_path, sources, name=name)
    settings = settings.model_copy(update={"executor": settings.executor.model_copy(update={"batch_size": 2})})
    store = open_store(settings)
    executor = Recording(ScanRunner(settings, store).spec)
    summary = ScanRunner(settings, store, executor=executor).run()
    SETTINGS[name] = settings
    return executor, store, summary


SETTINGS: dict[str, Any] = {}


def runs(order: list[tuple[str, str]]) -> int:
    """How many times the unit changes from one batch to the next."""
    return sum(1 for a, b in zip(order, order[1:], strict=False) if a != b)


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "listing"])
def test_interleaved_units_store_what_one_at_a_time_stores(tmp_path, monkeypatch, delta):
    sequential, one_store, one = scanned(tmp_path, [source(delta)], "one", w={})
    monkeypatch.setattr(MemoryConnector, "parallel_units", True)
    interleaved, many_store, many = scanned(tmp_path, [source(delta)], "many", w={})
    # one at a time: six runs of batches, one per unit; interleaved: the first batches come
    # from as many units as there are lanes
    assert runs(sequential.order) == 5
    assert len({unit for _, unit in interleaved.order[:INTERLEAVE_UNITS]}) == INTERLEAVE_UNITS
    assert Counter(interleaved.order) == Counter(sequential.order)
    assert store_snapshot(many_store) == store_snapshot(one_store)
    assert many.totals() == one.totals()
    assert set(many_store.cursors("bron")) == set(one_store.cursors("bron")) == set("ABCDEF")
    assert None not in many_store.cursors("bron").values()


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "listing"])
def test_a_unit_that_breaks_off_leaves_the_units_crawled_beside_it_complete(tmp_path, monkeypatch, delta):
    # B breaks off half way while A is suspended half way (its lane gave a first batch), and
    # its lane goes on with E: the first batches are A's, C's, D's and E's.
    _, one_store, one = scanned(tmp_path, [source(delta)], "one", w={"broken": "B"})
    monkeypatch.setattr(MemoryConnector, "parallel_units", True)
    executor, store, summary = scanned(tmp_path, [source(delta)], "many", w={"broken": "B"})
    assert [unit for _, unit in executor.order[:INTERLEAVE_UNITS]] == list("ACDE")
    assert set(store.cursors("bron")) == set("ACDEF")  # B: no cursor, crawled again next run
    assert store.done_units(summary.run_id, "bron") == set("ACDEF")
    assert summary.totals() == one.totals() and summary.totals()["source_errors"] == 1
    assert store_snapshot(store) == store_snapshot(one_store)

    # the next run, the fault gone: B completes, the others are not crawled again
    WORLDS["w"].faults = Faults()
    again = ScanRunner(SETTINGS["many"], store).run()
    assert again.totals()["source_errors"] == 0
    assert set(store.cursors("bron")) == set("ABCDEF")
    # B's twelve items are analysed; a delta lists nothing new elsewhere, a listing all of it
    assert again.totals()["analysed"] == 12
    assert again.totals()["unchanged"] == (0 if delta else 60)


def test_sources_are_interleaved_and_a_serial_source_crawls_one_unit_at_a_time(tmp_path):
    executor, store, summary = scanned(
        tmp_path, [source(False, "een", "w1"), source(False, "twee", "w2")], "two",
        w1={"folders": "AB"}, w2={"folders": "XY"})
    order = executor.order
    assert {name for name, _ in order[:2]} == {"een", "twee"}  # both sources from the start
    for name in ("een", "twee"):
        units = [unit for s, unit in order if s == name]
        assert runs([(name, u) for u in units]) == 1  # a serial connector: unit after unit
    assert summary.totals()["analysed"] == 48
    assert store.done_units(summary.run_id, "een") == {"A", "B"}
    assert store.done_units(summary.run_id, "twee") == {"X", "Y"}


def test_two_units_of_one_mailbox_are_never_crawled_at_once(tmp_path, monkeypatch):
    """Units that share a concurrency key (folders of one mailbox) take turns; others overlap."""
    monkeypatch.setattr(MemoryConnector, "parallel_units", True)
    monkeypatch.setattr(pipeline, "TRIAGE_CHUNK", 4)  # a listing is triaged (and yields) every 4 items
    units_of = MemoryConnector.units
    crawl_of = MemoryConnector.crawl
    open_now: Counter[str] = Counter()
    most: Counter[str] = Counter()
    overlap = {"most": 0}

    def units(self):
        for unit in units_of(self):
            yield Unit(key=unit.key, label=unit.label, owner=unit.owner, full_listing=unit.full_listing,
                       concurrency_key=f"mailbox-{unit.key[0]}")

    def crawl(self, unit, cursor):
        key = unit.concurrency_key
        open_now[key] += 1
        most[key] = max(most[key], open_now[key])
        overlap["most"] = max(overlap["most"], sum(open_now.values()))
        try:
            yield from crawl_of(self, unit, cursor)
        finally:
            open_now[key] -= 1

    monkeypatch.setattr(MemoryConnector, "units", units)
    monkeypatch.setattr(MemoryConnector, "crawl", crawl)
    executor, store, summary = scanned(tmp_path, [source(False)], "keys", w={"folders": "ABCD"})
    assert set(most.values()) == {1}
    assert overlap["most"] == 4
    # folders A1/A2 of one mailbox: in turn
    WORLDS.clear()
    world("w2", folders="AB")
    w = WORLDS["w2"]
    for n in range(12):
        w.put("Ax", f"Ax{n}.txt", content(n, student=False))
    open_now.clear()
    most.clear()
    executor, store, summary = scanned(tmp_path, [source(False, world="w2")], "same")
    assert most["mailbox-A"] == 1
    assert store.done_units(summary.run_id, "bron") == {"A", "Ax", "B"}


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "listing"])
@pytest.mark.parametrize("seed", SEEDS[:3])
def test_convergence_holds_with_interleaved_units(tmp_path, monkeypatch, seed, delta):
    monkeypatch.setattr(MemoryConnector, "parallel_units", True)
    _converges(tmp_path, seed, delta)


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "listing"])
def test_resumed_runs_hold_with_interleaved_units(tmp_path, monkeypatch, delta):
    monkeypatch.setattr(MemoryConnector, "parallel_units", True)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _resumes(tmp_path / "a", delta)
    memory_source.WORLDS.clear()
    _resumes_blind(tmp_path / "b", delta)


def test_a_warning_belongs_to_the_unit_whose_crawl_met_it(tmp_path, monkeypatch):
    """B warns while A is half way on another lane: B is the unit saved at once with its
    warning (a resumed run must find it), A is not, whichever lane finishes first."""
    monkeypatch.setattr(MemoryConnector, "parallel_units", True)
    monkeypatch.setattr(pipeline, "TRIAGE_CHUNK", 4)
    crawl_of = MemoryConnector.crawl

    def crawl(self, unit, cursor):
        if unit.key == "B":
            self.warn("B", "vanished", "bestand verdween tijdens het lezen / file vanished")
        yield from crawl_of(self, unit, cursor)

    saved_at_once: list[str] = []
    complete_unit = Store.complete_unit

    def noted(self, run_id, source_name, unit_key, *args, **kwargs):
        saved_at_once.append(unit_key)
        return complete_unit(self, run_id, source_name, unit_key, *args, **kwargs)

    monkeypatch.setattr(MemoryConnector, "crawl", crawl)
    monkeypatch.setattr(Store, "complete_unit", noted)
    executor, store, summary = scanned(tmp_path, [source(False)], "warned", w={"folders": "ABCD"})
    assert [unit for _, unit in executor.order[:2]] == ["A", "B"]
    assert saved_at_once == ["B"]
    assert [e["unit_key"] for e in store.source_errors(summary.run_id, "warning")] == ["B"]
    assert store.done_units(summary.run_id, "bron") == set("ABCD")


def test_a_sibling_shares_the_source_and_keeps_its_own_warnings():
    connector = MemoryConnector(memory_source.MemoryConfig(name="bron", kind="memory", world="w"))
    connector.cache = {"folder": "id"}  # what units() learnt
    twin = connector.sibling()
    twin.warn("B", "vanished", "weg / gone")
    assert twin.config is connector.config and twin.cache is connector.cache
    assert connector.warnings == [] and len(twin.warnings) == 1
