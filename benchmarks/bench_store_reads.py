"""Benchmark: the store's write path and the read paths that every scan and report walks over all items.

    .venv/bin/python benchmarks/bench_store_reads.py [items]

Fills a fresh SQLite store with ``items`` analysed items (through ``save_results``, as the
pipeline does; timed once: the store's write throughput), times the lookup and touch an
unchanged second scan makes of every item (``known_items`` and ``touch_items`` per 500), then
times, best of three: a plain ``iter_items`` pass, the full retention
pass (every item through the policy, as after a change of the rules), the teacher digests,
the FG frames and the export rows, as wall and CPU time. Not a test (no timed assertions); read the figures.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner.config import load_config
from scanner.core.model import AnalysisResult, Finding, ItemKind, ItemRef, Verdict
from scanner.reporting import export_rows, fg_frames, teacher_digests
from scanner.retention_pass import recompute_retention
from scanner.store import Store

CATS = ["zorg", "verzuim", "cijfers", "contactgegevens", "gezondheid", "identificatie", "thuissituatie"]


def fill(store: Store, n: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    run_id = store.begin_run("scan", pid=1, host="bench")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    batch: list[AnalysisResult] = []
    for i in range(n):
        owner = f"docent{i % 150}@school.nl"
        ref = ItemRef(source="mail", item_key=f"k{i}", kind=ItemKind.MAIL, owner=owner,
                      folder=rnd.choice(["Inbox", "Verzonden items", "Inbox/Zorg", "Archief/2019"]),
                      title=f"onderwerp {i}", date=now - timedelta(days=rnd.randint(0, 3650)), size=1000 + i,
                      change_key=f"c{i}", link=f"https://outlook.example/{i}", unit_key=owner)
        student = rnd.random() < 0.6
        categories = sorted(set(rnd.choices(CATS, k=rnd.randint(1, 3)))) if student else []
        findings = [Finding(entity="NL_BSN", category="identificatie", part="body", start=0, end=9,
                            score=0.9, masked="*****6782", value_hash="h" * 64)] if student else []
        batch.append(AnalysisResult(ref=ref, content_hash=f"{i:064x}",
                                    verdict=Verdict(student_data=student, categories=categories, findings=findings)))
        if len(batch) == 1000:
            store.save_results(run_id, batch, source_kind="maildir", department="Onderbouw")
            batch = []
    store.save_results(run_id, batch, source_kind="maildir", department="Onderbouw")
    store.finish_run(run_id, "completed", {})


def unchanged_pass(store: Store, refs: list[ItemRef]) -> None:
    """What an unchanged second scan asks of the store per item: the lookup by key and the touch."""
    run_id = store.begin_run("scan", pid=1, host="bench")
    for start in range(0, len(refs), 500):
        chunk = refs[start:start + 500]
        store.known_items("mail", [r.item_key for r in chunk])
        store.touch_items(run_id, chunk)
    store.finish_run(run_id, "completed", {})


def best(fn, repeat: int = 3) -> tuple[float, float]:
    """Best wall and best CPU time of ``repeat`` runs (CPU time is what to compare on a
    shared machine: SQLite reads run in this process)."""
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_config(None, overrides={"state_dir": tmp})
        store = Store(settings.database_url)
        start, cpu = time.perf_counter(), time.process_time()
        fill(store, n)
        figures = {"save_results (write)": (time.perf_counter() - start, time.process_time() - cpu)}
        refs = [row.ref() for row in store.iter_items()]
        figures["known + touch"] = best(lambda: unchanged_pass(store, refs), repeat=1)
        figures |= {
            "iter_items": best(lambda: sum(1 for _ in store.iter_items())),
            "retention (full)": best(lambda: recompute_retention(store, settings, full=True)),
            "digests": best(lambda: teacher_digests(store, settings)),
            "fg_frames": best(lambda: fg_frames(store, settings)),
            "export_rows": best(lambda: export_rows(store)),
        }
        store.close()
    for name, (wall, cpu) in figures.items():
        print(f"{name:22s} wall {wall:6.2f} s  cpu {cpu:6.2f} s  {n / cpu:9,.0f} items per cpu-second")


if __name__ == "__main__":
    main()
