"""Benchmark: the pipeline driver alone, the single writer every executor feeds (issue 21, item 3).

    .venv/bin/python benchmarks/bench_driver.py [--items 20000] [--units 40] [--postgres]

A synthetic source lists ``--items`` files over ``--units`` folders; an executor hands back
ready-made results at once (no fetch, no extraction, no detection, no worker), so what is
timed is what the driver does per item: triage against the store, writing results, closing
units, the retention pass. Three scans per backend: the first (everything new), a second with
nothing changed, and a third after 1 % of the items changed. Prints stored items per second
(wall) and the driver's CPU milliseconds per item, for SQLite and, with ``--postgres``, for a
throwaway local PostgreSQL server (the one the tests start). Not a test: read the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from connectors import registry  # noqa: E402
from connectors.base import Connector, SourceConfig  # noqa: E402
from scanner.config import load_config  # noqa: E402
from scanner.core.model import (  # noqa: E402
    AnalysisResult,
    CrawlStream,
    Cursor,
    Fetched,
    Finding,
    ItemKind,
    ItemRef,
    Seen,
    Unit,
    Verdict,
)
from scanner.executors import Executor, Work  # noqa: E402
from scanner.pipeline import ScanRunner  # noqa: E402
from scanner.store import Store  # noqa: E402

KIND = "bench_synthetic"
WORLD: dict[str, Any] = {"items": 0, "units": 1, "version": {}}


class SyntheticConfig(SourceConfig):
    kind: Literal["bench_synthetic"]


class SyntheticConnector(Connector):
    """Lists WORLD["items"] files; an item's change key moves when its version does."""

    kind = KIND
    config_model = SyntheticConfig

    def units(self) -> Iterator[Unit]:
        for u in range(WORLD["units"]):
            yield Unit(key=f"map{u:03d}", label=f"Map {u}", owner=f"docent{u % 150}@school.nl", full_listing=True)

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        units, date = WORLD["units"], datetime(2019, 1, 1, tzinfo=UTC)
        index = int(unit.key[3:])
        for i in range(index, WORLD["items"], units):
            version = WORLD["version"].get(i, 0)
            yield Seen(ItemRef(source=self.config.name, item_key=f"{unit.key}/bestand-{i}.txt", kind=ItemKind.FILE,
                               owner=unit.owner, folder=unit.key, title=f"bestand-{i}.txt",
                               date=date + timedelta(days=i % 2000), size=1000 + i % 5000,
                               change_key=f"{i}.{version}", unit_key=unit.key))
        yield Cursor("listed")

    def fetch(self, ref: ItemRef) -> Fetched:  # never called: the executor below answers itself
        raise NotImplementedError


class CannedExecutor(Executor):
    """Answers every batch at once with a result shaped like a real one (a third with findings)."""

    name = "canned"

    def run(self, work: Iterable[Work]) -> Iterator[tuple[Any, list[AnalysisResult]]]:
        for batch in work:
            yield batch.tag, [self._result(ref) for ref in batch.refs]

    @staticmethod
    def _result(ref: ItemRef) -> AnalysisResult:
        digest = hashlib.sha256(f"{ref.item_key}:{ref.change_key}".encode()).hexdigest()
        student = int(digest[:2], 16) % 3 == 0
        findings = [Finding(entity="NL_BSN", category="identificatie", part="body", start=0, end=9, score=0.9,
                            masked="*****6782", value_hash=digest)] if student else []
        return AnalysisResult(ref=ref, content_hash=digest, bytes_read=ref.size or 0,
                              verdict=Verdict(student_data=student, categories=["identificatie"] if student else [],
                                              findings=findings))

    @property
    def detection_mode(self) -> tuple[str, str | None]:
        return "regex", None


def settings_for(tmp: Path, database_url: str | None) -> Any:
    data: dict[str, Any] = {"state_dir": str(tmp / "state"), "school": {"name": "Bench"},
                            "detection": {"spacy_model": "none"}, "secret_file": str(tmp / "hmac.key"),
                            "sources": [{"name": "share", "kind": KIND}]}
    if database_url:
        data["database"] = {"url": database_url}
    path = tmp / "bench.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path)


def timed_scan(settings: Any, store: Store) -> tuple[float, float, dict[str, Any]]:
    start, cpu = time.perf_counter(), time.process_time()
    summary = ScanRunner(settings, store, executor=CannedExecutor(None)).run()  # type: ignore[arg-type]
    return time.perf_counter() - start, time.process_time() - cpu, summary.totals()


def bench(label: str, settings: Any, items: int) -> None:
    store = Store(settings.database_url)
    WORLD["version"] = {}
    rows = []
    wall, cpu, totals = timed_scan(settings, store)
    rows.append(("first", wall, cpu, totals["analysed"]))
    wall, cpu, totals = timed_scan(settings, store)
    rows.append(("unchanged", wall, cpu, totals["unchanged"]))
    WORLD["version"] = dict.fromkeys(range(0, items, 100), 1)
    wall, cpu, totals = timed_scan(settings, store)
    rows.append(("1 % changed", wall, cpu, totals["analysed"]))
    store.close()
    for name, wall, cpu, count in rows:
        print(f"{label:10s} {name:12s} {items:8,d} listed {count:8,d} written  wall {wall:7.2f} s  "
              f"{items / wall:9,.0f} items/s  driver cpu {1000 * cpu / items:6.3f} ms/item")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--postgres", action="store_true", help="also on a throwaway local PostgreSQL")
    args = parser.parse_args()
    WORLD.update(items=args.items, units=args.units)
    registry.CONNECTORS[KIND] = f"{__name__}:SyntheticConnector"
    print(f"driver only: {args.items:,} items over {args.units} units, results handed back at once")
    with tempfile.TemporaryDirectory(prefix="schoonschip-bench-") as tmp:
        bench("sqlite", settings_for(Path(tmp), None), args.items)
    if args.postgres:
        from tests.services.postgres import running_postgres

        with running_postgres() as url, tempfile.TemporaryDirectory(prefix="schoonschip-bench-") as tmp:
            bench("postgresql", settings_for(Path(tmp), url), args.items)


if __name__ == "__main__":
    main()
