"""Benchmark: the pipeline driver alone, the single writer every executor feeds (issue 21, item 3).

    .venv/bin/python benchmarks/bench_driver.py [--items 20000] [--units 40] [--postgres] [--interleave]
        [--dump FILE] [--json FILE]

A synthetic source lists ``--items`` files over ``--units`` folders; an executor hands back
ready-made results at once (no fetch, no extraction, no detection, no worker), so what is
timed is what the driver does per item: triage against the store, writing results, closing
units, the retention pass. Three scans per backend: the first (everything new), a second with
nothing changed, and a third after 1 % of the items changed. Prints stored items per second
(wall) and the driver's CPU milliseconds per item, for SQLite and, with ``--postgres``, for a
throwaway local PostgreSQL server (the one the tests start), and the CPU of the write path
alone (``Store.save_result_groups``) per written item. The canned answers are made before the
clock starts (building them is a worker's job).

``--interleave`` also shows which units the first batches fed to the executor came from, one
unit at a time against interleaved (``Connector.parallel_units``), and what the executors'
admission rule makes of that order (idle workers, batches held back). ``--dump FILE`` writes
the store after the three scans, with fixed keys and encrypted values opened, to compare two
versions of the code with ``diff``. Not a test: read the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
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
from scanner.pipeline import INTERLEAVE_UNITS, ScanRunner  # noqa: E402
from scanner.store import Store, open_store  # noqa: E402

KIND = "bench_synthetic"
WORLD: dict[str, Any] = {"items": 0, "units": 1, "version": {}, "findings": 13.5}


class SyntheticConfig(SourceConfig):
    kind: Literal["bench_synthetic"]


class SyntheticConnector(Connector):
    """Lists WORLD["items"] files; an item's change key moves when its version does."""

    kind = KIND
    config_model = SyntheticConfig

    def units(self) -> Iterator[Unit]:
        for u in range(WORLD["units"]):
            yield Unit(key=f"map{u:03d}", label=f"Map {u}", owner=f"docent{u % 150}@school.nl", full_listing=True,
                       concurrency_key=f"map{u:03d}")

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
    """Answers every batch at once with a result shaped like a real one (a third with findings).

    The answers are made before the clock starts (:func:`can_answers`): making them is a
    worker's job, not the driver's, and is not what this benchmark times."""

    name = "canned"

    def run(self, work: Iterable[Work]) -> Iterator[tuple[Any, list[AnalysisResult]]]:
        answers = ANSWERS
        ORDER.clear()
        for batch in work:
            ORDER.append(batch.concurrency_key or "")
            yield batch.tag, [AnalysisResult(ref=ref, content_hash=answers[ref.item_key][0], bytes_read=ref.size or 0,
                                             verdict=answers[ref.item_key][1]) for ref in batch.refs]

    @property
    def detection_mode(self) -> tuple[str, str | None]:
        return "regex", None


ANSWERS: dict[str, tuple[str, Verdict]] = {}
ORDER: list[str] = []
"""The concurrency key (here: the unit) of every batch the executor was given, in order."""


FLAGGED_SHARE = 0.56
"""Share of items with student data in the bulk corpus (1,113 of 2,000 mails in
``bench_scan.py``'s first scan), the share the canned answers flag."""
FINDING_MIX = (("PERSON", None, "M******"), ("PERSON", None, "T*****************"),
               ("CATEGORY_TERM", "verzuim", "l*********"), ("PERSON", None, "J****"),
               ("CATEGORY_TERM", "gezondheid", "d*********"), ("DATE_OF_BIRTH", "identificatie", "******15"),
               ("NL_BSN", "identificatie", "*****6782"), ("PERSON", None, "S*******"),
               ("PHONE_NUMBER", "contact", "******1234"), ("NL_ADDRESS", "contact", "K*************"),
               ("EMAIL_ADDRESS", "contact", "j***@***.nl"), ("PERSON", None, "A****"))
"""The entities of the bulk corpus's findings in about their proportions (PERSON 46 %,
category terms 24 %, birth dates 9 %, BSN 8 %, phone 5 %, address 4 %, e-mail 4 %), cycled."""


def can_answers(findings_per_item: float | None = None) -> None:
    """The content hash and verdict of every item in its current version.

    ``findings_per_item``: the mean number of findings per item; a flagged item carries
    ``findings_per_item / FLAGGED_SHARE`` of them (24 at the default 13.5, the bulk corpus's
    27,039 findings over 2,000 mails), each with its own keyed hash, so the write path stores
    as many finding rows, with as many distinct index keys, as a real first scan. The store's
    cost per item is mostly its finding rows: one finding per flagged item, as this benchmark
    had before 3 December, measured the item rows alone."""
    ANSWERS.clear()
    units = WORLD["units"]
    mean = WORLD["findings"] if findings_per_item is None else findings_per_item
    per_flagged = max(1, round(mean / FLAGGED_SHARE)) if mean > 0 else 0
    for i in range(WORLD["items"]):
        key = f"map{i % units:03d}/bestand-{i}.txt"
        digest = hashlib.sha256(f"{key}:{i}.{WORLD['version'].get(i, 0)}".encode()).hexdigest()
        student = per_flagged > 0 and int(digest[:4], 16) < FLAGGED_SHARE * 0x10000
        findings = [Finding(entity=entity, category=category, part="body" if j % 5 else "bijlage.pdf",
                            start=40 * j, end=40 * j + 9, score=0.85, masked=masked,
                            value_hash=hashlib.sha256(f"{digest}:{j}".encode()).hexdigest()[:32])
                    for j, (entity, category, masked) in
                    zip(range(per_flagged), itertools.cycle(FINDING_MIX))] if student else []
        categories = sorted({f.category for f in findings if f.category})
        ANSWERS[key] = (digest, Verdict(student_data=student, categories=categories, findings=findings))


def settings_for(tmp: Path, database_url: str | None) -> Any:
    data: dict[str, Any] = {"state_dir": str(tmp / "state"), "school": {"name": "Bench"},
                            "detection": {"spacy_model": "none"}, "secret_file": str(tmp / "hmac.key"),
                            "sources": [{"name": "share", "kind": KIND}]}
    if database_url:
        data["database"] = {"url": database_url}
    path = tmp / "bench.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path)


WRITE_CPU = [0.0]
"""CPU seconds spent in Store.save_result_groups (the write path of analysed items)."""


def timed_scan(settings: Any, store: Store) -> tuple[float, float, dict[str, Any]]:
    save = store.save_result_groups

    def timed_save(*args: Any, **kwargs: Any) -> Any:
        cpu = time.process_time()
        try:
            return save(*args, **kwargs)
        finally:
            WRITE_CPU[0] += time.process_time() - cpu

    store.save_result_groups = timed_save  # type: ignore[method-assign]
    WRITE_CPU[0] = 0.0
    can_answers()
    start, cpu = time.perf_counter(), time.process_time()
    try:
        summary = ScanRunner(settings, store, executor=CannedExecutor(None)).run()  # type: ignore[arg-type]
    finally:
        del store.save_result_groups
    return time.perf_counter() - start, time.process_time() - cpu, summary.totals()


def fixed_keys(settings: Any) -> None:
    """Known store key and HMAC secret, so two runs (before and after a change) give the same
    item ids and can be compared row by row (``--dump``)."""
    for path, size in ((settings.key_path, 64), (settings.secret_path, 32)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(hashlib.sha256(str(path.name).encode()).hexdigest()[:2 * size].ljust(2 * size, "0") + "\n")
        path.chmod(0o600)


VOLATILE = {"finished", "seconds"}
"""Keys of the run figures that are clock readings."""


def dump_store(store: Store, target: Path) -> None:
    """Every row of every table, encrypted values opened, clock readings and the process id
    left out (timestamps other than an item's own date), one JSON line per row, sorted: equal files mean the two runs
    stored the same."""
    from sqlalchemy import DateTime, select

    from scanner.store import schema

    lines = []
    with store.engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            sealed = schema.ENCRYPTED.get(table.name, {})
            for row in conn.execute(select(table)):
                values: dict[str, Any] = {}
                for column, value in zip(table.columns, row, strict=True):
                    if (isinstance(column.type, DateTime) and column.name != "item_date") or column.name == "pid":
                        continue
                    if column.name in sealed:
                        value = store._open(value)
                    if table.name == "runs" and column.name == "stats" and value:
                        value = {k: v for k, v in value.items() if k not in VOLATILE}
                        for figures in value.get("sources", {}).values():
                            figures.pop("seconds", None)
                    if table.name in ("run_units", "units") and column.name == "stats" and value:
                        value = {k: v for k, v in value.items() if k not in VOLATILE}
                    values[column.name] = value
                lines.append(json.dumps([table.name, values], sort_keys=True, default=str))
    target.write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")


def bench(label: str, settings: Any, items: int, dump: Path | None = None, json_file: Path | None = None) -> None:
    if dump is not None:
        fixed_keys(settings)
    store = open_store(settings)
    WORLD["version"] = {}
    rows = []
    wall, cpu, totals = timed_scan(settings, store)
    rows.append(("first", wall, cpu, totals["analysed"], WRITE_CPU[0]))
    wall, cpu, totals = timed_scan(settings, store)
    rows.append(("unchanged", wall, cpu, totals["unchanged"], WRITE_CPU[0]))
    WORLD["version"] = dict.fromkeys(range(0, items, 100), 1)
    wall, cpu, totals = timed_scan(settings, store)
    rows.append(("1 % changed", wall, cpu, totals["analysed"], WRITE_CPU[0]))
    if dump is not None:
        dump_store(store, dump.with_name(f"{dump.name}.{label}.jsonl"))
    store.close()
    for name, wall, cpu, count, write in rows:
        per_write = f"{1000 * write / count:6.3f}" if count and name != "unchanged" else "     -"
        print(f"{label:10s} {name:12s} {items:8,d} listed {count:8,d} written  wall {wall:7.2f} s  "
              f"{items / wall:9,.0f} items/s  driver cpu {1000 * cpu / items:6.3f} ms/item "
              f"({items / cpu:7,.0f}/s)  write path {per_write} ms/written item")
    if json_file is not None:  # read by benchmarks/report.py (kind "driver")
        row = {"bench": "driver", "backend": label, "items": items, "units": WORLD["units"],
               "findings_per_item": WORLD["findings"],
               "scans": {name: {"written": count, "wall": wall, "cpu_ms_per_item": 1000 * cpu / items,
                                "write_ms_per_written": 1000 * write / count if count and name != "unchanged"
                                else None}
                         for name, wall, cpu, count, write in rows},
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
               "load": os.getloadavg()[0]}
        with open(json_file, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(row) + "\n")


def pool_figures(keys: list[str], workers: int = 8, per_key_limit: int = 4,
                 max_waiting: int = 1024) -> tuple[float, int]:
    """Feed the batches, in the order the driver gave them, to the executors' admission rule
    (at most ``per_key_limit`` batches of one mailbox at a time, up to ``max_waiting`` held)
    with ``workers`` workers that each take one time step per batch: the share of worker
    steps left idle, and the most batches held back at once to find another mailbox's."""
    from scanner.executors.admission import Admission

    admission: Admission[str] = Admission(iter(keys), key=lambda key: key, per_key_limit=per_key_limit,
                                          max_waiting=max_waiting)
    steps = idle = held = 0
    while not admission.drained:
        running = []
        while len(running) < workers and (batch := admission.next()) is not None:
            admission.started(batch)
            running.append(batch)
        held = max(held, len(admission._waiting))
        steps, idle = steps + 1, idle + workers - len(running)
        for batch in running:
            admission.finished(batch)
    return idle / max(1, steps * workers), held


def interleaving(items: int) -> None:
    """The mix of mailboxes the executor is fed, one unit at a time against interleaved, with
    mailboxes of 2,000 items (a teacher's)."""
    units = WORLD["units"]
    WORLD["units"] = max(2, items // 2000)
    print(f"interleaving: {items:,} items over {WORLD['units']} units (one mailbox each), batches of 16; "
          "pool of 8 workers, 4 batches per mailbox at most")
    for parallel in (False, True):
        SyntheticConnector.parallel_units = parallel
        with tempfile.TemporaryDirectory(prefix="schoonschip-bench-") as tmp:
            settings = settings_for(Path(tmp), None)
            store = open_store(settings)
            WORLD["version"] = {}
            wall, cpu, _ = timed_scan(settings, store)
            store.close()
        first = ORDER[:12]
        idle, held = pool_figures(ORDER)
        small_room, _ = pool_figures(ORDER, max_waiting=16)
        label = f"{INTERLEAVE_UNITS} units at once" if parallel else "one unit at a time"
        print(f"  {label:18s} first 12 batches from {len(set(first)):2d} units ({' '.join(k[3:] for k in first)}); "
              f"idle workers {100 * idle:4.1f} %, batches held back at most {held:4d} "
              f"(with room for 16: idle {100 * small_room:4.1f} %); driver cpu {1000 * cpu / items:6.3f} ms/item")
    SyntheticConnector.parallel_units = False
    WORLD["units"] = units


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--findings", type=float, default=13.5,
                        help="mean findings per item (default: the bulk corpus's 13.5; 0.56 gives one finding "
                             "per flagged item, about this benchmark's load before 3 December)")
    parser.add_argument("--postgres", action="store_true", help="also on a throwaway local PostgreSQL")
    parser.add_argument("--json", type=Path, help="append one JSON line per backend (benchmarks/report.py)")
    parser.add_argument("--interleave", action="store_true",
                        help="also show the mix of units fed to the executor, one unit at a time and interleaved")
    parser.add_argument("--dump", type=Path, help="write the store after the three scans to DUMP.<backend>.jsonl "
                        "(fixed keys; compare two versions of the code with diff)")
    args = parser.parse_args()
    WORLD.update(items=args.items, units=args.units, findings=args.findings)
    registry.CONNECTORS[KIND] = f"{__name__}:SyntheticConnector"
    print(f"driver only: {args.items:,} items over {args.units} units, {args.findings:g} findings per item "
          f"on average, results handed back at once")
    with tempfile.TemporaryDirectory(prefix="schoonschip-bench-") as tmp:
        bench("sqlite", settings_for(Path(tmp), None), args.items, args.dump, args.json)
    if args.interleave:
        interleaving(args.items)
    if args.postgres:
        from tests.services.postgres import running_postgres

        with running_postgres() as url, tempfile.TemporaryDirectory(prefix="schoonschip-bench-") as tmp:
            bench("postgresql", settings_for(Path(tmp), url), args.items, args.dump, args.json)


if __name__ == "__main__":
    main()
