"""When the driver dies (kill -9 of the scan, the OOM killer), its pool workers leave at once and
quietly: no orphan keeps analysing, no traceback lands in the cron mail (issue 15)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

DRIVER = textwrap.dedent('''
    import os, sys
    from pathlib import Path
    from tests.executors.helpers import poison_share
    from scanner.executors.pool import PoolExecutor
    from scanner.executors import Work

    tmp = Path(sys.argv[1])
    _, refs, spec = poison_share(tmp, clean=0)
    share = tmp / "share"
    (share / "poison.txt").unlink()
    from connectors.base import ConnectorContext
    from scanner.core.model import Seen
    from tests.executors.poison import PoisonConfig, PoisonFolderConnector
    for n in range(40):
        (share / f"slow-{n:02d}.txt").write_text(f"Verslag {n}", encoding="utf-8")
    config = PoisonConfig(name="share", kind="poison_folder", path=share, owner="ib@school.nl")
    connector = PoisonFolderConnector(config, ConnectorContext())
    refs = [e.ref for u in connector.units() for e in connector.crawl(u, None) if isinstance(e, Seen)]
    work = [Work(refs[i:i + 10], tag=i, concurrency_key=None) for i in range(0, len(refs), 10)]
    pool = PoolExecutor(spec, workers=2, preload=("tests.executors.poison",))
    pool.detection_mode
    children = [w.process.pid for w in pool._pool]
    print("workers", *children, flush=True)
    for _ in pool.run(work):
        pass
''')


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"  # an orphan's zombie waits for a reaper that may not exist here


def test_workers_exit_quietly_when_the_driver_is_killed(tmp_path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=Path(__file__).parents[2])
    line = driver.stdout.readline()
    assert line.startswith("workers"), line + driver.stderr.read()
    workers = [int(pid) for pid in line.split()[1:]]
    assert len(workers) == 2 and all(_alive(pid) for pid in workers)
    time.sleep(1.0)  # both workers are inside a 3-second batch now
    driver.send_signal(signal.SIGKILL)
    driver.wait(timeout=30)
    deadline = time.monotonic() + 2.0
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    orphans = [pid for pid in workers if _alive(pid)]
    for pid in orphans:
        os.kill(pid, signal.SIGKILL)
    assert not orphans, "workers kept running after their driver died"
    errors = driver.stderr.read()  # EOF only once every worker closed its copy of stderr
    assert "Traceback" not in errors and "BrokenPipeError" not in errors, errors
