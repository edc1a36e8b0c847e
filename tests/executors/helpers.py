"""Helpers for the executor tests: configuration per run, database snapshots, and finding
and killing worker processes (by pid, never by name)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import yaml
from sqlalchemy import text

from scanner.config import Settings, load_config
from scanner.jobs import demo_settings
from tests.services.stored import item_count


@dataclass
class Snapshot:
    items: list[tuple]
    findings: list[tuple]
    errors: list[tuple]


@dataclass
class Reference:
    root: Path
    corpus: Any
    secret: Path
    expected: Snapshot | None


def run_config(ref: Reference, name: str, executor: dict[str, Any]) -> tuple[Settings, str]:
    """Settings for one run over the shared corpus with the shared key and its own database."""
    out = ref.root / name
    out.mkdir(parents=True, exist_ok=True)
    data = demo_settings(out, ref.corpus)
    data["secret_file"] = str(ref.secret)
    data["executor"] = {"batch_size": 4, **executor}
    url = f"sqlite:///{out / 'scan.sqlite'}"
    data["database"] = {"url": url}
    path = out / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_config(path), url


def snapshot(settings) -> Snapshot:
    """What a run stored, comparable across runs: finding parts are opened with each store's
    own key (two stores, two keys, different ciphertexts for equal parts)."""
    from scanner.store import open_store

    store = open_store(settings, create=False)
    try:
        opened = store.keys_in_use().cipher.open
        with store.engine.connect() as conn:
            items = sorted(conn.execute(text(
                "select id, change_key, student_data from items")).all())
            findings = sorted((item_id, entity, opened(part), *rest) for item_id, entity, part, *rest in conn.execute(
                text("select item_id, entity, part, start, \"end\", value_hash from findings")).all())
            errors = sorted(conn.execute(text("select item_id, code from item_errors")).all())
    finally:
        store.close()
    return Snapshot(list(items), list(findings), list(errors))



class Killer(threading.Thread):
    """Waits until the first results are stored, then SIGKILLs one process chosen by
    ``find`` (a worker), as the OOM killer would. Records the pid it killed."""

    def __init__(self, url: str, find: Callable[[], list[int]], timeout: float = 120.0) -> None:
        super().__init__(daemon=True)
        self.url, self.find, self.timeout = url, find, timeout
        self.killed: int | None = None
        self.done = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and not self.done.is_set():
            if item_count(self.url) > 0:
                pids = self.find()
                if pids:
                    os.kill(pids[0], signal.SIGKILL)
                    self.killed = pids[0]
                    return
            time.sleep(0.05)


def pool_workers() -> list[int]:
    """The pool's workers: children of this process's forkserver (or, where the pool spawns
    them, this process's spawn-started multiprocessing children)."""
    pids = []
    for child in psutil.Process().children(recursive=False):
        try:
            cmdline = " ".join(child.cmdline())
            if "multiprocessing.forkserver" in cmdline:
                pids.extend(worker.pid for worker in child.children(recursive=False))
        except psutil.Error:
            continue
        if "spawn_main" in cmdline and "resource_tracker" not in cmdline:
            pids.append(child.pid)
    return pids


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The largest number of intervals that were open at the same moment."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = best = 0
    for _, step in events:
        running += step
        best = max(best, running)
    return best


def measure_overlaps(tmp_path: Path, make_executor: Callable[[Any, int], Any]) -> tuple[dict, dict]:
    """Run 12 slow items of two mailboxes (``a``: 6, then ``b``: 6, one item per batch, in crawl
    order) through an executor with a per-mailbox limit of 1 and then 2; return, for each run,
    the most batches that were running at once, overall and per mailbox."""
    from connectors.base import ConnectorContext
    from scanner.analysis import AnalysisSpec
    from scanner.core.model import Seen
    from scanner.executors import Work
    from tests.executors.poison import PoisonConfig, PoisonFolderConnector

    share = tmp_path / "share"
    for box in ("a", "b"):
        (share / box).mkdir(parents=True)
        for n in range(6):
            (share / box / f"slow-{n}.txt").write_text(f"mail {n}\n", encoding="utf-8")
    config = PoisonConfig(name="share", kind="poison_folder", path=share)
    with PoisonFolderConnector(config, ConnectorContext()) as connector:
        refs = [event.ref for unit in connector.units() for event in connector.crawl(unit, None)
                if isinstance(event, Seen)]
    refs.sort(key=lambda ref: ref.item_key)
    assert len(refs) == 12
    defaults = Settings()
    spec = AnalysisSpec(sources=(config,), detection=defaults.detection, extraction=defaults.extraction,
                        secret=b"k" * 32)
    log = tmp_path / "activity.log"
    outcome = []
    for limit in (1, 2):
        log.unlink(missing_ok=True)
        work = [Work([ref], tag=n, concurrency_key=ref.folder) for n, ref in enumerate(refs)]
        with make_executor(spec, limit) as executor:
            tags = sorted(tag for tag, _ in executor.run(work))
        assert tags == list(range(len(refs)))
        per_box: dict[str, list[tuple[float, float]]] = {}
        every: list[tuple[float, float]] = []
        for line in log.read_text(encoding="utf-8").splitlines():
            box, start, end = line.split()
            per_box.setdefault(box, []).append((float(start), float(end)))
            every.append((float(start), float(end)))
        assert sorted(per_box) == ["a", "b"]
        outcome.append({"all": max_overlap(every), **{box: max_overlap(v) for box, v in per_box.items()}})
    return outcome[0], outcome[1]


def poison_share(tmp_path: Path, clean: int) -> tuple[Any, list[Any], Any]:
    """A share of ``clean`` ordinary reports and one file that kills the worker analysing it:
    returns the poison connector's config, its refs (crawled on the driver) and the spec."""
    from connectors.base import ConnectorContext
    from scanner.analysis import AnalysisSpec
    from scanner.core.model import Seen
    from tests.executors.poison import PoisonConfig, PoisonFolderConnector

    share = tmp_path / "share"
    share.mkdir()
    for n in range(clean):
        (share / f"verslag-{n:02d}.txt").write_text(f"Verslag {n}: Sanne de Vries, BSN 999990019.\n",
                                                     encoding="utf-8")
    (share / "poison.txt").write_text("kills the worker\n", encoding="utf-8")
    config = PoisonConfig(name="share", kind="poison_folder", path=share, owner="ib@school.nl")
    with PoisonFolderConnector(config, ConnectorContext()) as connector:
        refs = [event.ref for unit in connector.units() for event in connector.crawl(unit, None)
                if isinstance(event, Seen)]
    assert len(refs) == clean + 1
    defaults = Settings()
    spec = AnalysisSpec(sources=(config,), detection=defaults.detection, extraction=defaults.extraction,
                        secret=b"k" * 32)
    return config, refs, spec


def assert_killed_worker_run_equals_inline(reference: Reference, name: str, executor: dict[str, Any],
                                           find: Callable[[], list[int]]) -> None:
    """Scan with ``executor`` while a worker process is SIGKILLed mid-run; the stored items,
    findings and errors equal the inline reference run's."""
    from scanner.jobs import run_scan

    settings, url = run_config(reference, name, executor)
    killer = Killer(url, find)
    killer.start()
    try:
        assert run_scan(settings, progress=False, echo=lambda _: None) == 0
    finally:
        killer.done.set()
        killer.join()
    assert killer.killed is not None, "no worker was killed during the run"
    got = snapshot(settings)
    assert got.items == reference.expected.items
    assert got.findings == reference.expected.findings
    assert got.errors == reference.expected.errors
