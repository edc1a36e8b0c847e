"""Benchmark: the cost of an incremental run (a second scan with nothing changed).

    python benchmarks/bench_incremental.py --corpus /tmp/bulk20000 --mails 20000 --executor pool

Runs a full scan and then the same scan again on the same database (:mod:`bench_scan`
``--second``); prints the second run's wall time as a fraction of the first (target: under 2 %)
and the database size per 10,000 items. The second run still lists every item and compares its
change key with the stored one (one query per 500 items), so what it measures is listing and
triage, not analysis.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scan

MB = 1024 * 1024


def main() -> None:
    args = bench_scan.parser().parse_args(sys.argv[1:] + ["--second"])
    out = bench_scan.run(args)
    first, second = out["first"], out["second"]
    print(f"first scan {first['seconds']:.1f} s, second {second['seconds']:.1f} s "
          f"= {100 * second['seconds'] / first['seconds']:.2f} % (target < 2 %); "
          f"database {second['db_bytes'] / MB / max(second['seen'], 1) * 10_000:.1f} MB per 10,000 items")


if __name__ == "__main__":
    main()
