"""Benchmark: peak memory of a scan at several corpus sizes (it must stay flat, issue 21 item 5).

    python benchmarks/bench_memory.py --sizes 10000 100000 --driver-only
    python benchmarks/bench_memory.py --sizes 10000 20000 --executor pool --workers 2

For each size a bulk corpus (``scanner.demo.generate_bulk``) is generated under
``--base/scanperf-bulkN`` when missing and scanned once, **each size in a fresh process**: the
peak read is VmHWM (``/proc/PID/status``), the kernel's peak resident set of a process over
its life, so one process scanning two sizes would report the larger for both. Printed per size:
the driver's VmHWM, the sum of the workers' and sandboxes' VmHWM (an upper bound of their peak
together), the peak of all of them sampled together every 0.2 s, and the corpus's largest
folder (the Maildir connector lists one folder at a time, so the driver's peak may follow the
largest folder, not the total).

``--driver-only``: the real connectors, triage, store and retention, with every result
handed back at once by :class:`AnsweringExecutor` (no fetch, no extraction, no detection),
so 100,000 items cost the driver's work only. ``--json FILE`` appends one line per size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

MB = 1024 * 1024


def answering_executor() -> Any:
    """An executor that answers every batch at once, each result made from the item's key.

    ``bench_driver.CannedExecutor`` looks its answers up in a table made beforehand for its own
    synthetic world, which knows none of the bulk corpus's keys; and a table of 100,000 answers
    would itself be driver memory that a real scan does not hold. So the answer (content hash,
    and a finding for a third of the items, as there) is computed per item and dropped once
    the driver has stored it."""
    import hashlib
    from collections.abc import Iterable, Iterator

    from scanner.core.model import AnalysisResult, Finding, Verdict
    from scanner.executors import Executor, Work

    class AnsweringExecutor(Executor):
        name = "canned"

        def run(self, work: Iterable[Work]) -> Iterator[tuple[Any, list[AnalysisResult]]]:
            for batch in work:
                results = []
                for ref in batch.refs:
                    digest = hashlib.sha256(f"{ref.item_key}:{ref.change_key}".encode()).hexdigest()
                    student = int(digest[:2], 16) % 3 == 0
                    findings = [Finding(entity="NL_BSN", category="identificatie", part="body", start=0, end=9,
                                        score=0.9, masked="*****6782", value_hash=digest)] if student else []
                    results.append(AnalysisResult(ref=ref, content_hash=digest, bytes_read=ref.size or 0,
                                                  verdict=Verdict(student_data=student, findings=findings,
                                                                  categories=["identificatie"] if student else [])))
                yield batch.tag, results

        @property
        def detection_mode(self) -> tuple[str, str | None]:
            return "regex", None

    return AnsweringExecutor(None)  # type: ignore[arg-type]  # no spec: it starts nothing


def largest_folder(root: Path) -> tuple[int, str]:
    """(messages, folder) of the largest Maildir folder (cur + new) under the corpus root."""
    best = (0, "")
    for box in root.iterdir():
        if not box.is_dir():
            continue
        for folder in [box, *(p for p in box.iterdir() if p.is_dir() and p.name.startswith("."))]:
            count = sum(1 for sub in ("cur", "new") if (folder / sub).is_dir() for _ in (folder / sub).iterdir())
            best = max(best, (count, f"{box.name}/{folder.name if folder != box else 'INBOX'}"))
    return best


def measure(size: int, base: Path, executor: str, workers: int | None, driver_only: bool) -> dict[str, Any]:
    """One scan of a ``size`` corpus in this (fresh) process."""
    import bench_scan

    root = bench_scan.ensure_corpus(base / f"scanperf-bulk{size}", size)
    tmp = Path(tempfile.mkdtemp(prefix="bench-mem-"))
    spec: dict[str, Any] = {"kind": "inline" if driver_only else executor}
    if workers and not driver_only:
        spec["workers"] = workers
    settings = bench_scan.scan_settings(root, tmp / "state", spec)
    canned = answering_executor() if driver_only else None
    result = bench_scan.one_scan(settings, [], executor=canned)
    folder_items, folder = largest_folder(root)
    return {"bench": "memory", "size": size, "executor": "driver-only" if driver_only else executor,
            "workers": workers, "items": result["seen"], "analysed": result["analysed"],
            "hwm_driver": result["hwm_driver"], "hwm_others": result["hwm_others"],
            "peak_total": result["peak_total"], "largest_folder": folder_items, "folder": folder,
            "seconds": result["seconds"], "driver_cpu": result["driver_cpu"], "cpu_total": result["cpu_total"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--base", type=Path, default=Path(tempfile.gettempdir()))
    p.add_argument("--executor", choices=["inline", "pool"], default="pool")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--driver-only", action="store_true", help="canned results: the driver's memory only")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # the child's size
    args = p.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one, args.base, args.executor, args.workers, args.driver_only)))
        return
    rows = []
    for size in args.sizes:
        # Generated here, not in the measuring child: VmHWM is a peak over the process's life,
        # and generating 100,000 mails peaked the child at 200 MB before the scan began.
        import bench_scan

        bench_scan.ensure_corpus(args.base / f"scanperf-bulk{size}", size)
        command = [sys.executable, __file__, "--one", str(size), "--base", str(args.base), "--executor", args.executor]
        command += (["--workers", str(args.workers)] if args.workers else []) + (["--driver-only"] * args.driver_only)
        out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout  # stderr shown
        row = json.loads(out.strip().splitlines()[-1])
        rows.append(row)
        if args.json:
            with open(args.json, "a", encoding="utf-8") as stream:
                stream.write(json.dumps(row) + "\n")
    print(f"{'items':>8}  {'executor':11}  {'VmHWM driver':>12}  {'VmHWM others':>12}  {'sampled all':>11}  "
          f"largest folder")
    for r in rows:
        print(f"{r['items']:>8}  {r['executor']:11}  {r['hwm_driver'] / MB:>9.0f} MB  {r['hwm_others'] / MB:>9.0f} MB  "
              f"{r['peak_total'] / MB:>8.0f} MB  {r['largest_folder']:,} mails ({r['folder']})")


if __name__ == "__main__":
    main()
