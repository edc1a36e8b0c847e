"""A real local Dask cluster for the tests: a scheduler and two workers, each its own process
(``dask scheduler`` / ``dask worker`` subprocesses on 127.0.0.1, no dashboard, no internet)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 60.0


@dataclass
class LocalCluster:
    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)

    def worker_processes(self) -> list[int]:
        """Pids of the worker processes the nannies started (the ones that run tasks)."""
        pids = []
        for nanny in self.workers:
            try:
                children = psutil.Process(nanny.pid).children(recursive=False)
            except psutil.Error:
                continue
            for child in children:
                try:
                    if "spawn_main" in " ".join(child.cmdline()):
                        pids.append(child.pid)
                except psutil.Error:
                    continue
        return pids


def dask_binary() -> str:
    path = Path(sys.executable).parent / "dask"
    if path.exists():
        return str(path)
    found = shutil.which("dask")
    if not found:
        raise RuntimeError("the 'dask' command (dask[distributed]) is not installed in this environment")
    return found


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env["HF_HUB_OFFLINE"] = "1"
    # A task may lose one worker and be rescheduled; the second death makes it fail with
    # KilledWorker (the default, 3, only makes the poison test slower).
    env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = "1"
    return env


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def local_cluster(tmp: Path, workers: int = 2, preload: tuple[str, ...] = ()) -> Iterator[LocalCluster]:
    """Start a scheduler on a free port and ``workers`` single-threaded workers (loading the
    ``preload`` modules, Dask's plug-in mechanism); stop them after."""
    binary, env = dask_binary(), _env()
    scheduler_file = tmp / "scheduler.json"
    logs = tmp / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    scheduler = subprocess.Popen(
        [binary, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
         "--scheduler-file", str(scheduler_file)],
        cwd=PROJECT_ROOT, env=env, stdout=open(logs / "scheduler.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT)
    cluster: LocalCluster | None = None
    try:
        deadline = time.monotonic() + START_SECONDS
        while not scheduler_file.exists() or not scheduler_file.read_text():
            if scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("dask scheduler did not start: " + (logs / "scheduler.log").read_text())
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        cluster = LocalCluster(address, scheduler)
        for n in range(workers):
            cluster.workers.append(subprocess.Popen(
                [binary, "worker", address, "--nworkers", "1", "--nthreads", "1", "--host", "127.0.0.1",
                 "--no-dashboard", "--name", f"w{n}", "--local-directory", str(tmp / f"w{n}"),
                 *[arg for module in preload for arg in ("--preload", module)]],
                cwd=PROJECT_ROOT, env=env, stdout=open(logs / f"worker{n}.log", "wb"),  # noqa: SIM115
                stderr=subprocess.STDOUT))
        from distributed import Client

        with Client(address, timeout=START_SECONDS, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=START_SECONDS)
        yield cluster
    finally:
        for process in (cluster.workers if cluster else []):
            _stop(process)
        _stop(scheduler)
