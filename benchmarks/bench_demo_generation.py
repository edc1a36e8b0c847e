"""Benchmark (not a test): how fast the demo and bulk corpora are written, and peak memory.

Run: .venv/bin/python benchmarks/bench_demo_generation.py [N_BULK ...]
Prints seconds, mails per second, bytes on disk and peak RSS for the default demo and for
each bulk size (default 20,000). Figures only, no assertions (see helper rules).
"""

from __future__ import annotations

import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner.demo import generate_bulk, generate_demo

TODAY = date(2026, 11, 22)


def _du(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _peak_mb() -> float:
    """This process's own peak (VmHWM): ``ru_maxrss`` would include the parent's peak, which
    Linux carries across fork and exec."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory(prefix="schoonschip-bench-") as tmp:
        start = time.perf_counter()
        corpus = generate_demo(Path(tmp) / "demo", today=TODAY)
        seconds = time.perf_counter() - start
        print(f"demo: {len(corpus.expected_student_data)} items in {seconds:.2f} s, "
              f"{_du(corpus.root) / 1e6:.1f} MB, peak RSS {_peak_mb():.0f} MB")
        shutil.rmtree(corpus.root)
        for n in sizes:
            start = time.perf_counter()
            cpu = time.process_time()
            root = generate_bulk(Path(tmp) / f"bulk{n}", n, 2026, 0.3, today=TODAY)
            seconds = time.perf_counter() - start
            print(f"bulk {n}: {seconds:.1f} s wall, {time.process_time() - cpu:.1f} s CPU, "
                  f"{n / seconds:.0f} mails/s, {_du(root) / 1e6:.0f} MB, peak RSS {_peak_mb():.0f} MB")
            shutil.rmtree(root)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [20000])
