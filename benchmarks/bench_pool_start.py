"""Where a pool run's fixed cost goes: CPU of every process from start until the pool is ready.

Part 1 (``--rounds``): a :class:`~scanner.executors.pool.PoolExecutor` over the bulk bench's
spec is started and waited for (``wait_ready``); then the CPU seconds of the driver's child
processes (the forkserver, each worker, the resource tracker) are read with psutil, before any
batch ran. A second pool in the same driver is measured too: its workers come from the already
running forkserver, which is what a worker restart costs.

Part 2 (``--phases``): the same steps as a worker, one by one in a fresh interpreter, with the
CPU (``process_time``) of each: the forkserver's preload imports, unpickling the spec, the
detection engine, the extractor, the connectors, and the first sandbox start.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_pool_start.py --corpus /tmp/bulk-corpus2000
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scan import ensure_corpus, scan_settings


def _spec(corpus: Path, mails: int, state: Path) -> Any:
    from scanner.pipeline import ScanRunner
    from scanner.store import Store

    settings = scan_settings(ensure_corpus(corpus, mails), state, {"kind": "pool", "workers": 2})
    runner = ScanRunner(settings, Store(settings.database_url), today=None)
    return runner.spec


def _children_cpu() -> dict[int, tuple[str, float, int]]:
    """Role, CPU seconds and proportional set size (shared pages split between the processes
    that share them: what a forked worker really adds) of every child process."""
    out: dict[int, tuple[str, float, int]] = {}
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
            command = " ".join(child.cmdline())
            pss = int(getattr(child.memory_full_info(), "pss", 0))
        except psutil.Error:
            continue
        if "forkserver" in command and child.ppid() == os.getpid():
            role = "forkserver"
        elif "forkserver" in command:
            role = "worker"  # forked from the forkserver: same command line
        elif "resource_tracker" in command:
            role = "resource_tracker"
        elif "scanner.extract.worker" in command:
            role = "sandbox"
        else:
            role = "worker"
        out[child.pid] = (role, times.user + times.system, pss)
    return out


def pool_start(spec: Any, workers: int) -> list[dict[str, Any]]:
    """CPU per role to start a first and a second pool in this process (until ready)."""
    from scanner.executors.pool import PoolExecutor

    rounds = []
    seen: dict[int, float] = {}
    for label in ("first pool", "second pool"):
        driver = time.process_time()
        pool = PoolExecutor(spec, workers=workers)
        pool.wait_ready()
        driver = time.process_time() - driver
        by_role: dict[str, float] = {"driver": driver}
        pss = 0
        for pid, (role, cpu, size) in _children_cpu().items():
            by_role[role] = by_role.get(role, 0.0) + cpu - seen.get(pid, 0.0)
            seen[pid] = cpu
            pss += size
        pool.close()
        rounds.append({"label": label, "pss_mb": pss / 2**20, **by_role})
    return rounds


PHASES = r"""
import json, pickle, sys, time
t = time.process_time
out = {}
s = t()
import importlib
from scanner.executors.pool import FORKSERVER_PRELOAD
for m in FORKSERVER_PRELOAD:
    importlib.import_module(m)
out["preload imports (forkserver)"] = t() - s
data = sys.stdin.buffer.read()
s = t(); spec = pickle.loads(data); out["unpickle spec"] = t() - s
from detectors import build_detector
from scanner.core.privacy import ValueHasher
s = t(); detector = build_detector(spec.detection, ValueHasher(spec.secret)); out["build_detector"] = t() - s
from scanner.extract import ExtractionCache, Extractor
s = t(); extractor = Extractor(spec.extraction); ExtractionCache(); out["Extractor + cache"] = t() - s
from scanner.analysis import Analyzer
s = t()
from connectors.registry import connector_class
for source in spec.sources:
    connector_class(source.kind)(source, spec.context)
out["connectors (import + build)"] = t() - s
s = t(); analyzer = Analyzer(spec); out["Analyzer(spec) again (warm)"] = t() - s
print(json.dumps(out))
"""


def phases(spec: Any) -> dict[str, float]:
    env = dict(os.environ)
    completed = subprocess.run([sys.executable, "-c", PHASES], input=pickle.dumps(spec), capture_output=True,
                               env=env, check=True)
    result: dict[str, float] = json.loads(completed.stdout.decode().strip().splitlines()[-1])
    return result


def sandbox_start() -> dict[str, float]:
    """CPU of one sandbox process from start to its first answer (a tiny text file)."""
    from scanner.core.model import Fetched, ItemKind
    from scanner.extract import Extractor

    extractor = Extractor()
    started = time.process_time()
    extractor.extract(Fetched(name="x.docx", size=14, data=b"PK\x03\x04broken"), ItemKind.FILE)
    caller = time.process_time() - started
    pid = extractor.worker_pid
    cpu = 0.0
    if pid is not None:
        times = psutil.Process(pid).cpu_times()
        cpu = times.user + times.system
    extractor.close()
    return {"sandbox process": cpu, "caller": caller}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/bulk-corpus2000"))
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-phases", action="store_true")
    parser.add_argument("--pool-once", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pool-start-") as tmp:
        spec = _spec(args.corpus, args.mails, Path(tmp) / "state")
        if not args.pool_once:
            print(f"load average {os.getloadavg()[0]:.2f}")
        if not args.no_phases and not args.pool_once:
            runs = [phases(spec) for _ in range(args.rounds)]
            for key in runs[0]:
                values = [r[key] for r in runs]
                print(f"phase {key}: median {statistics.median(values):.3f} s CPU "
                      f"({', '.join(f'{v:.3f}' for v in values)})")
            sand = [sandbox_start() for _ in range(args.rounds)]
            print("sandbox start: median "
                  f"{statistics.median(s['sandbox process'] for s in sand):.3f} s CPU in the sandbox, "
                  f"{statistics.median(s['caller'] for s in sand):.3f} s in the caller")
        if args.pool_once:
            print(json.dumps(pool_start(spec, args.workers)))
            return
        pools = []
        for _ in range(args.rounds):
            # a fresh interpreter per round: the forkserver is process-wide
            command = [sys.executable, __file__, "--corpus", str(args.corpus), "--mails", str(args.mails),
                       "--workers", str(args.workers), "--pool-once"]
            completed = subprocess.run(command, capture_output=True, check=True)
            pools.append(json.loads(completed.stdout.decode().strip().splitlines()[-1]))
        for index, label in enumerate(("first pool", "second pool (forkserver running)")):
            rows = [p[index] for p in pools]
            roles = sorted({k for r in rows for k in r if k not in ("label", "pss_mb")})
            totals = [sum(v for k, v in r.items() if k not in ("label", "pss_mb")) for r in rows]
            print(f"{label}: median " + ", ".join(
                f"{role} {statistics.median(r.get(role, 0.0) for r in rows):.3f} s" for role in roles)
                + f"; total {statistics.median(totals):.3f} s CPU ({', '.join(f'{t:.3f}' for t in totals)}); "
                f"child processes' PSS when ready {statistics.median(r['pss_mb'] for r in rows):.1f} MB")
        print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
