"""Benchmark: peak memory of a full scan at two corpus sizes (it must stay flat).

    python benchmarks/bench_memory.py --sizes 10000 50000 --executor pool --workers 2

For each size a bulk corpus (``scanner.demo.generate_bulk``) is generated under
``--base/bulkN`` when missing and scanned once with :mod:`bench_scan`; printed are the peak RSS
of the driver and of driver plus workers (sampled every 0.2 s), so the two sizes can be compared.
Flat means: five times the items, about the same peak.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scan

MB = 1024 * 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    p.add_argument("--base", type=Path, default=Path(tempfile.gettempdir()))
    p.add_argument("--executor", choices=["inline", "pool", "dask"], default="pool")
    p.add_argument("--workers", type=int, default=None)
    args = p.parse_args()
    rows = []
    for size in args.sizes:
        run_args = bench_scan.parser().parse_args(
            ["--corpus", str(args.base / f"bulk{size}"), "--mails", str(size), "--executor", args.executor]
            + (["--workers", str(args.workers)] if args.workers else []))
        first = bench_scan.run(run_args)["first"]
        rows.append((size, first))
    print("items     peak driver RSS   peak driver+workers RSS")
    for _size, first in rows:
        print(f"{first['seen']:>7}   {first['peak_driver'] / MB:>10.0f} MB   {first['peak_total'] / MB:>12.0f} MB")


if __name__ == "__main__":
    main()
