"""Run every benchmark that README's performance table and docs/scale-out.md's sizing need.

    python benchmarks/run_all.py --quick --json /tmp/bench.jsonl    # < 20 min on a 2-core machine
    python benchmarks/run_all.py --full --json /tmp/bench.jsonl     # larger corpora, more rounds
    python benchmarks/report.py /tmp/bench.jsonl                    # writes both sections

One command so that the tables are regenerated the same way every time (the figures are only
comparable when the same benchmarks ran on the same corpora). Each benchmark runs in its own
process, one after the other (they would otherwise share the cores they measure), and appends
its JSON lines to ``--json``; a benchmark that fails is reported and the rest still run, and the
exit code says so. The NER line for the sizing is measured only when ``nl_core_news_md`` is
installed; otherwise a line marked ``"source": "assumption"`` carries the documented planning
figure, so the generated table can say which it is.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NER_MODEL = "nl_core_news_md"
NER_ASSUMED_EXTRA_MS = 15.0
"""What ``nl_core_news_md`` adds per mail when it is not installed to measure: docs/scale-out.md
planned 20-30 ms per mail with it against ~10 ms without, so about +15 ms."""

MODES = {
    # name: (scan corpus sizes, driver items, memory sizes driver-only, memory sizes total, peer rounds);
    # quick scans bench_scan.py's default corpus (20,000 mails, what issue 21 item 2 is stated on) as
    # well as 2,000 mails, where a run's fixed cost (start-up, sandboxes, pool) weighs ten times more
    "quick": ([2_000, 20_000], 20_000, [10_000, 100_000], [10_000], 3),
    "full": ([20_000], 100_000, [10_000, 100_000], [10_000, 100_000], 5),
}


def postgres_available() -> bool:
    """bench_driver's ``--postgres`` starts a throwaway local server: only when one is installed."""
    try:
        from tests.services.postgres import postgres_bin
    except ImportError:
        return False
    return postgres_bin() is not None


def commands(mode: str, out: Path, base: Path) -> list[list[str]]:
    scan_sizes, items, driver_sizes, total_sizes, rounds = MODES[mode]
    py, json_ = sys.executable, ["--json", str(out)]
    runs = [
        *([py, str(HERE / "bench_scan.py"), "--corpus", str(base / f"schoonschip-bulk{mails}"), "--mails", str(mails),
           "--executor", executor, *(["--workers", "2"] if executor == "pool" else []), *json_]
          for mails in scan_sizes for executor in ("inline", "pool")),
        # three runs, the table takes the median (sizing.driver_runs: one run varies +-20 % here)
        *([py, str(HERE / "bench_driver.py"), "--items", str(items), *(["--postgres"] if postgres_available() else []),
           *json_] for _ in range(3)),
        [py, str(HERE / "bench_incremental.py"), "--corpus", str(base / "schoonschip-bulk2000"), "--mails", "2000",
         "--repeat", "5", *json_],  # median of 5: one unchanged scan is a few 10 ms CPU ticks
        [py, str(HERE / "bench_memory.py"), "--base", str(base), "--sizes", *map(str, driver_sizes), "--driver-only",
         *json_],
        [py, str(HERE / "bench_memory.py"), "--base", str(base), "--sizes", *map(str, total_sizes),
         "--executor", "pool", "--workers", "2", *json_],
        [py, str(HERE / "bench_detect.py"), "--peers", "--rounds", str(rounds), *json_],
        [py, str(HERE / "bench_process.py"), *json_],  # whole process, start-up included (item 1)
    ]
    return runs


def ner_line() -> dict[str, object]:
    """The NER figure for the sizing: measured when the model is installed, else the assumption."""
    row: dict[str, object] = {"bench": "ner", "model": NER_MODEL,
                              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if importlib.util.find_spec(NER_MODEL) is None:
        return {**row, "source": "assumption", "extra_ms_per_item": NER_ASSUMED_EXTRA_MS}
    costs = {}
    for model in ("none", NER_MODEL):
        text = subprocess.run([sys.executable, str(HERE / "bench_detect.py"), "--model", model],
                              check=True, stdout=subprocess.PIPE, text=True).stdout
        line = next(line for line in text.splitlines() if line.startswith("schoonschip (batched)"))
        docs_per_cpu_second = float(line.split()[-3])
        costs[model] = 1000 / docs_per_cpu_second
    return {**row, "source": "measured", "extra_ms_per_item": costs[NER_MODEL] - costs["none"]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = p.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_const", dest="mode", const="quick")
    group.add_argument("--full", action="store_const", dest="mode", const="full")
    p.add_argument("--json", type=Path, required=True, help="JSON-lines file the benchmarks append to")
    p.add_argument("--base", type=Path, default=Path(tempfile.gettempdir()),
                   help="where the generated corpora are kept between runs")
    args = p.parse_args()
    mode = args.mode or "quick"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent),
                                                                     os.environ.get("PYTHONPATH")]))}
    failed = []
    started = time.monotonic()
    for command in commands(mode, args.json, args.base):
        name = " ".join(Path(c).name if c.endswith(".py") else c for c in command[1:])
        print(f"== {name}", flush=True)
        t0 = time.monotonic()
        if subprocess.run(command, env=env).returncode != 0:
            failed.append(name)
        print(f"== {time.monotonic() - t0:.0f} s", flush=True)
    with open(args.json, "a", encoding="utf-8") as stream:
        stream.write(json.dumps(ner_line()) + "\n")
    print(f"{mode}: {time.monotonic() - started:.0f} s in all, load average {os.getloadavg()[0]:.1f}"
          + (f"; FAILED: {'; '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
