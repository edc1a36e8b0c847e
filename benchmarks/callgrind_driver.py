"""Instruction counts of the driver's first scan alone, under callgrind (issue 21, item 3).

    valgrind --tool=callgrind --callgrind-out-file=OUT.%p .venv/bin/python \
        benchmarks/callgrind_driver.py [--items 2000] [--units 40] [--passes 1]

The store, the settings and the canned answers of :mod:`benchmarks.bench_driver` are built
first; then the script asks ``callgrind_control -z`` to zero the counters, runs
``ScanRunner.run()`` (a first scan into an empty store; ``--passes N`` runs N first scans, each
into a fresh store) and asks ``callgrind_control -d`` to dump them, so imports, setup and the
answers are not counted. The driver's timers that close a write batch (0.5 s) and a batch of
finished units (5 s) are set to never, unless ``--timers``: under callgrind a scan runs ~50
times slower, so the timer, not the count (500 results), closed a write batch, how often
depended on the machine's load, and the figures overweighted the per-transaction costs; at
native speed a batch closes by count. The dump named ``OUT.<pid>.1`` holds the scans alone; its
``summary:`` line is the instruction count (``callgrind_annotate`` reads it). Without valgrind
the script simply runs the scans and prints their CPU. Run with ``PYTHONHASHSEED=0``: repeat
runs then agree to a fraction of a percent.

The counters are driven by :mod:`_callgrind`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bench_driver as bench  # noqa: E402
from _callgrind import control  # noqa: E402

from connectors import registry  # noqa: E402
from scanner.pipeline import ScanRunner  # noqa: E402
from scanner.store import open_store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--passes", type=int, default=1, help="first scans, each into a fresh store")
    parser.add_argument("--postgres", action="store_true", help="a throwaway local PostgreSQL, not SQLite")
    parser.add_argument("--split", action="store_true",
                        help="also dump just before and after each retention pass (OUT.<pid>.1: crawl and writes, "
                        ".2: the retention pass, .3: the rest)")
    parser.add_argument("--timers", action="store_true",
                        help="keep the driver's write and completion timers (default: batches close by count)")
    args = parser.parse_args()
    if args.postgres and args.passes != 1:
        parser.error("--postgres runs one pass (one throwaway database)")
    bench.WORLD.update(items=args.items, units=args.units, version={})
    registry.CONNECTORS[bench.KIND] = "bench_driver:SyntheticConnector"
    bench.can_answers()
    if not args.timers:
        import scanner.pipeline as pipeline

        pipeline.WRITE_SECONDS = pipeline.COMPLETE_SECONDS = float("inf")
    if args.split:
        import scanner.pipeline as pipeline

        recompute = pipeline.recompute_retention

        def split_recompute(*a: object, **k: object) -> dict[str, int]:
            control("-d")
            try:
                return recompute(*a, **k)  # type: ignore[arg-type]
            finally:
                control("-d")

        pipeline.recompute_retention = split_recompute  # type: ignore[assignment]
    with tempfile.TemporaryDirectory(prefix="schoonschip-callgrind-") as tmp:
        url = None
        server = None
        if args.postgres:
            from tests.services.postgres import running_postgres

            server = running_postgres()
            url = server.__enter__()
        try:
            runs = []
            for n in range(args.passes):
                root = Path(tmp) / f"pass{n}"
                root.mkdir()
                settings = bench.settings_for(root, url)
                store = open_store(settings)
                runs.append((settings, store))
            control("-z")
            cpu = time.process_time()
            for settings, store in runs:
                ScanRunner(settings, store, executor=bench.CannedExecutor(None)).run()  # type: ignore[arg-type]
            cpu = time.process_time() - cpu
            control("-d")
            for _, store in runs:
                store.close()
        finally:
            if server is not None:
                server.__exit__(None, None, None)
    print(f"{args.passes} first scan(s) of {args.items:,} items: {1000 * cpu / (args.items * args.passes):.3f} ms "
          "CPU per item")


if __name__ == "__main__":
    main()
