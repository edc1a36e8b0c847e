"""Benchmark: a full scan of a generated bulk corpus through the real pipeline.

    python benchmarks/bench_scan.py --mails 20000 --executor pool --workers 2
    python benchmarks/bench_scan.py --corpus /tmp/bulk20000 --executor dask --workers 2
    python benchmarks/bench_scan.py --corpus /tmp/bulk20000 --executor inline --second

The corpus is ``scanner.demo.generate_bulk`` (one Maildir++ per teacher, ~30 % of the mails with
attachments: PDF, DOCX, XLSX, CSV, ZIP); it is generated under ``--corpus`` when missing. The
scan is :class:`scanner.pipeline.ScanRunner` with a fresh SQLite database, exactly as
``schoonschip scan`` runs it. ``--executor dask`` without ``--scheduler`` starts a local
scheduler and ``--workers`` single-threaded worker processes (subprocesses on 127.0.0.1).

Printed: items, MB read, wall seconds, items/s, MB/s, peak RSS of the driver and of driver plus
all worker processes (sampled every 0.2 s), and the database size (total and per 10,000 items).
``--second`` runs an unchanged second scan on the same database and prints its cost as a
fraction of the first (the incremental case). ``--profile FILE`` profiles the driver with
pyinstrument (with ``--executor inline`` that is the whole hot path) and writes a text report.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
import yaml

from scanner.config import load_config
from scanner.demo import bulk_sources, generate_bulk

TODAY = date(2026, 11, 22)
MB = 1024 * 1024


class MemorySampler(threading.Thread):
    """Peak RSS of this process and of this process plus every descendant (and extra pids),
    leaving out ``exclude`` and their descendants (a benchmark's own fake servers)."""

    def __init__(self, extra: list[int] | None = None, interval: float = 0.2,
                 exclude: list[int] | None = None) -> None:
        super().__init__(daemon=True)
        self.interval, self.extra, self.exclude = interval, extra or [], exclude or []
        self.peak_driver = 0
        self.peak_total = 0
        self.cpu: dict[int, float] = {}
        self.roles: dict[int, str] = {}
        """pid -> ``driver``, ``sandbox`` (an extraction worker), ``worker`` (a pool or Dask
        worker) or ``other``: where the CPU went, per kind of process."""
        self.hwm: dict[int, int] = {}
        """VmHWM (the kernel's own peak resident set, /proc/PID/status) of every process seen,
        read while it lives: exact for the driver, the last sample for a worker that ended.
        ``ru_maxrss`` is not used: it is inherited across fork and exec (docs/decisions.md)."""
        self._halt = threading.Event()

    def sample(self) -> None:
        me = psutil.Process()
        processes = [me, *me.children(recursive=True)]
        for pid in self.extra:
            try:
                parent = psutil.Process(pid)
                processes += [parent, *parent.children(recursive=True)]
            except psutil.Error:
                pass
        total = 0
        seen: set[int] = set()
        for pid in self.exclude:
            try:
                seen.update([pid, *(p.pid for p in psutil.Process(pid).children(recursive=True))])
            except psutil.Error:
                seen.add(pid)
        for process in processes:
            if process.pid in seen:
                continue
            seen.add(process.pid)
            try:
                total += process.memory_info().rss
                self.hwm[process.pid] = max(self.hwm.get(process.pid, 0), vm_hwm(process.pid))
                if process.pid not in self.roles:
                    self.roles[process.pid] = _role(process)
                times = process.cpu_times()
                self.cpu[process.pid] = max(self.cpu.get(process.pid, 0.0), times.user + times.system)
            except psutil.Error:
                pass
        self.peak_driver = max(self.peak_driver, me.memory_info().rss)
        self.peak_total = max(self.peak_total, total)

    @property
    def hwm_driver(self) -> int:
        return self.hwm.get(os.getpid(), 0)

    @property
    def hwm_others(self) -> int:
        """Sum of the peaks of every other process (workers, sandboxes): an upper bound of
        their peak together, since they need not peak at the same moment."""
        return sum(value for pid, value in self.hwm.items() if pid != os.getpid())

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            time.sleep(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.sample()

    def cpu_by_role(self, baseline: dict[int, float]) -> dict[str, float]:
        """CPU seconds since ``baseline`` per kind of process (see :attr:`roles`)."""
        out: dict[str, float] = {}
        for pid, value in self.cpu.items():
            role = self.roles.get(pid, "other")
            out[role] = out.get(role, 0.0) + value - baseline.get(pid, 0.0)
        return out

    def cpu_seconds(self, baseline: dict[int, float]) -> float:
        """CPU seconds used by all sampled processes since ``baseline`` (the last sample before a
        process ends is what counts, so a process that lives < 0.2 s may be missed)."""
        return sum(value - baseline.get(pid, 0.0) for pid, value in self.cpu.items())


def _role(process: psutil.Process) -> str:
    if process.pid == os.getpid():
        return "driver"
    try:
        command = " ".join(process.cmdline())
    except psutil.Error:
        return "other"
    if "scanner.extract.worker" in command:
        return "sandbox"
    if "multiprocessing" in command or "dask" in command:
        return "worker"
    return "other"


def vm_hwm(pid: int) -> int:
    """Peak resident set of ``pid`` in bytes (VmHWM), 0 when it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


@contextmanager
def local_dask(workers: int, tmp: Path) -> Iterator[tuple[str, list[int]]]:
    """A scheduler and ``workers`` single-threaded worker processes on 127.0.0.1."""
    binary = str(Path(sys.executable).parent / "dask")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent), HF_HUB_OFFLINE="1")
    scheduler_file = tmp / "scheduler.json"
    processes = [subprocess.Popen([binary, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                   "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        while not scheduler_file.exists() or not scheduler_file.read_text():
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        for n in range(workers):
            processes.append(subprocess.Popen(
                [binary, "worker", address, "--nworkers", "1", "--nthreads", "1", "--host", "127.0.0.1",
                 "--no-dashboard", "--memory-limit", "0", "--local-directory", str(tmp / f"w{n}")],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=60)
        yield address, [p.pid for p in processes]
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def ensure_corpus(path: Path, mails: int) -> Path:
    root = path / "bulk"
    if not (root / "manifest.json").exists():
        started = time.monotonic()
        generate_bulk(path, mails, today=TODAY, overwrite=True)
        print(f"corpus: {mails} mails generated in {time.monotonic() - started:.0f} s", flush=True)
    return root


def scan_settings(root: Path, state: Path, executor: dict[str, Any]) -> Any:
    state.mkdir(parents=True, exist_ok=True)
    data = {"school": {"name": "Benchmark"}, "state_dir": str(state), "sources": bulk_sources(root),
            "executor": {"batch_size": 16, **executor}}
    path = state / "bench.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_config(path)


def one_scan(settings: Any, extra_pids: list[int], profile: Path | None = None,
             exclude: list[int] | None = None, executor: Any = None) -> dict[str, Any]:
    from scanner.pipeline import ScanRunner
    from scanner.store import Store

    store = Store(settings.database_url)
    sampler = MemorySampler(extra_pids, exclude=exclude)
    sampler.sample()
    baseline = dict(sampler.cpu)
    load_before = os.getloadavg()[0]
    sampler.start()
    profiler = None
    if profile is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    started = time.monotonic()
    cpu = time.process_time()
    summary = ScanRunner(settings, store, today=None, executor=executor).run()
    seconds = time.monotonic() - started
    driver_cpu = time.process_time() - cpu
    if profiler is not None:
        profiler.stop()
        profile.write_text(profiler.output_text(unicode=False, color=False, show_all=False), encoding="utf-8")
    sampler.stop()
    load_after = os.getloadavg()[0]
    store.engine.dispose()
    totals = summary.totals()
    # The driver's own CPU from process_time (ns resolution, all its threads) instead of
    # psutil's clock ticks (10 ms): an unchanged scan's ~0.05 s otherwise reads as 0.04, 0.05 or
    # 0.06, i.e. +-20 % on the "at most 1 % of the first" figure. Other processes: psutil.
    by_role = sampler.cpu_by_role(baseline)
    others = sampler.cpu_seconds(baseline) - by_role.get("driver", 0.0)
    by_role["driver"] = driver_cpu
    db = Path(settings.database_url.removeprefix("sqlite:///"))
    db_bytes = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    return {"status": summary.status, "seen": totals["seen"], "analysed": totals["analysed"],
            "flagged": totals["flagged"], "errors": totals["item_errors"], "bytes": totals["bytes_read"],
            "seconds": seconds, "driver_cpu": driver_cpu, "peak_driver": sampler.peak_driver,
            "peak_total": sampler.peak_total, "hwm_driver": sampler.hwm_driver, "hwm_others": sampler.hwm_others,
            "db_bytes": db_bytes, "mode": summary.detection_mode,
            "cpu_total": others + driver_cpu, "cpu_by_role": by_role,
            "load": (load_before, load_after)}


def describe(label: str, r: dict[str, Any]) -> str:
    items = max(r["seen"], 1)
    return (f"{label}: {r['seen']} items ({r['analysed']} analysed, {r['flagged']} flagged, {r['errors']} item "
            f"errors), {r['bytes'] / MB:.1f} MB in {r['seconds']:.1f} s = {r['analysed'] / r['seconds']:.1f} items/s, "
            f"{r['bytes'] / MB / r['seconds']:.2f} MB/s; CPU driver {r['driver_cpu']:.1f} s, all processes "
            f"{r['cpu_total']:.1f} s ({r['analysed'] / max(r['cpu_total'], 0.001):.1f} items per CPU-second, "
            f"{1000 * r['cpu_total'] / max(r['analysed'], 1):.2f} ms CPU per item: "
            + ", ".join(f"{role} {seconds:.1f} s" for role, seconds in sorted(r["cpu_by_role"].items()))
            + "); "
            f"load average {r['load'][0]:.1f} -> {r['load'][1]:.1f}; peak RSS driver "
            f"{r['peak_driver'] / MB:.0f} MB, driver+workers {r['peak_total'] / MB:.0f} MB; database "
            f"{r['db_bytes'] / MB:.1f} MB ({r['db_bytes'] / MB / items * 10_000:.1f} MB per 10,000 items)")


def run(args: argparse.Namespace) -> dict[str, Any]:
    root = ensure_corpus(args.corpus, args.mails)
    tmp = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    state = args.state or tmp / "state"
    executor: dict[str, Any] = {"kind": args.executor}
    if args.workers:
        executor["workers"] = args.workers
    out: dict[str, Any] = {"executor": args.executor, "workers": args.workers}
    try:
        with (local_dask(args.workers or os.cpu_count() or 1, tmp) if args.executor == "dask" and not args.scheduler
              else _nothing(args.scheduler)) as (address, pids):
            if args.executor == "dask":
                executor["dask_scheduler"] = address
            settings = scan_settings(root, state, executor)
            first = one_scan(settings, pids, args.profile)
            out["first"] = first
            workers = 1 if args.executor == "inline" else args.workers or os.cpu_count()
            print(describe(f"scan 1 [{args.executor} x{workers}]", first), flush=True)
            if args.second:
                second = one_scan(settings, pids)
                out["second"] = second
                print(describe("scan 2 (unchanged)", second), flush=True)
                print(f"incremental: second scan took {second['seconds']:.1f} s = "
                      f"{100 * second['seconds'] / first['seconds']:.2f} % of the first "
                      f"({second['analysed']} items analysed again)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


@contextmanager
def _nothing(address: str | None) -> Iterator[tuple[str | None, list[int]]]:
    yield address, []


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=Path(tempfile.gettempdir()) / "schoonschip-bulk")
    p.add_argument("--mails", type=int, default=20_000, help="corpus size when it must be generated")
    p.add_argument("--executor", choices=["inline", "pool", "dask"], default="pool")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--scheduler", default=None, help="an existing Dask scheduler (tcp://host:8786)")
    p.add_argument("--state", type=Path, default=None,
                   help="keep the database here (default: a temporary folder); an existing one makes "
                        "the first scan incremental")
    p.add_argument("--second", action="store_true", help="also run an unchanged second scan")
    p.add_argument("--profile", type=Path, default=None, help="write a pyinstrument profile of the driver")
    p.add_argument("--json", type=Path, default=None, help="append the figures as one JSON line")
    return p


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    args = parser().parse_args()
    out = run(args)
    out.update(bench="scan", corpus=str(args.corpus), cpus=os.cpu_count(),
               date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    if args.json:
        with open(args.json, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
