"""The sizing table of docs/scale-out.md, computed from benchmark JSON lines (issue 21 item 3).

A board plans its first scan from three measured figures: the CPU a worker spends per mail
(``bench_scan.py``, inline and pool), the CPU the single driver spends per stored item
(``bench_driver.py``, SQLite and PostgreSQL) and what a Dutch NER model adds per mail. Typing
those into the document by hand is how it came to show last month's 11 ms and 4,200 items/s
after the code had changed; here the table is arithmetic over the JSON lines only, so
regenerating it after a benchmark run keeps it true. The NER figure is measured only when
``run_all.py`` found a model installed; otherwise the line it wrote says ``"source":
"assumption"`` and the table labels it so.
"""

from __future__ import annotations

from typing import Any

BEGIN, END = "<!-- sizing:begin -->", "<!-- sizing:end -->"
MAILS = 40_000_000
WEEKEND_HOURS = 60  # Friday 18:00 to Monday 06:00
WEEK_HOURS = 168


def _last(rows: list[dict[str, Any]], key: Any) -> dict[Any, dict[str, Any]]:
    out: dict[Any, dict[str, Any]] = {}
    for row in rows:
        out[key(row)] = row
    return out


def worker_ms(rows: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
    """CPU ms per analysed mail of the workers' side, by executor.

    ``cpu_total`` sums driver, workers and sandboxes. With ``pool`` or ``dask`` the driver's own
    share is taken off, because on Dask the driver is another machine, sized on its own from
    ``bench_driver``. With ``inline`` the driver *is* the worker (it fetches, extracts and
    detects itself), so all of it counts: that overstates the worker by the driver's
    bookkeeping, a few per cent, on the safe side."""
    out = {}
    for executor, r in _last(rows.get("scan", []), lambda r: r["executor"]).items():
        first = r["first"]
        analysed = max(first["analysed"], 1)
        driver = 0.0 if executor == "inline" else first.get("driver_cpu", 0.0)
        out[executor] = 1000 * (first["cpu_total"] - driver) / analysed
    return out


def driver_runs(rows: dict[str, list[dict[str, Any]]]) -> dict[str, tuple[dict[str, Any], int]]:
    """By backend, the driver run with the median first-scan CPU per item, and how many runs
    there were.

    WHY the median: on a shared virtual machine one driver-only run of the same code varies by
    +-20 % (5 runs in a row on 3 December: SQLite 0.170-0.227 ms per item); one run would make
    the table, and the sizing computed from it, a draw. ``run_all.py`` runs the benchmark three
    times; with an even count the slower of the middle two is taken."""
    by_backend: dict[str, list[dict[str, Any]]] = {}
    for r in rows.get("driver", []):
        if "first" in r.get("scans", {}):
            by_backend.setdefault(r["backend"], []).append(r)
    out: dict[str, tuple[dict[str, Any], int]] = {}
    for backend, runs in by_backend.items():
        ordered = sorted(runs, key=lambda r: r["scans"]["first"]["cpu_ms_per_item"])
        out[backend] = (ordered[len(ordered) // 2], len(ordered))
    return out


def driver_ms(rows: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
    """Driver CPU ms per stored item on a first scan (all new), by backend (median run)."""
    return {backend: r["scans"]["first"]["cpu_ms_per_item"] for backend, (r, _) in driver_runs(rows).items()}


def ner(rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    found = rows.get("ner", [])
    return found[-1] if found else None


def _hours(ms_per_item: float, items: int = MAILS) -> float:
    return items * ms_per_item / 1000 / 3600


def table(rows: dict[str, list[dict[str, Any]]], mails: int = MAILS) -> str:
    """The markdown between the markers; a figure that no benchmark line gave is said missing."""
    workers, drivers, model = worker_ms(rows), driver_ms(rows), ner(rows)
    lines = [BEGIN, "", f"Computed by `benchmarks/report.py` from the benchmarks' JSON lines for "
             f"{mails / 1e6:.0f} million mails; a weekend is {WEEKEND_HOURS} h, a week {WEEK_HOURS} h; "
             "cores count worker processes (one per core), the driver comes on top.", ""]
    if not workers:
        lines += ["(no `bench_scan.py` line in the input: worker sizing not computed)", ""]
    cases: list[tuple[str, float]] = []
    for executor in ("pool", "inline", "dask"):
        if executor in workers:
            cases.append((f"name lists, `{executor}` figure", workers[executor]))
    if model and workers:
        base_name, base = ("pool", workers["pool"]) if "pool" in workers else next(iter(workers.items()))
        extra = float(model["extra_ms_per_item"])
        label = "measured" if model.get("source") == "measured" else "assumption, not measured"
        cases.append((f"NER `{model['model']}` ({label}: +{extra:.0f} ms per mail on the `{base_name}` figure)",
                      base + extra))
    if cases:
        lines += ["| detection | worker CPU ms per mail | core-hours | cores for a weekend | cores for a week "
                  + "".join(f"| workers one {b} driver keeps up with " for b in drivers) + "|",
                  "| --- | ---: | ---: | ---: | ---: " + "| ---: " * len(drivers) + "|"]
        for name, ms in cases:
            core_hours = _hours(ms, mails)
            lines.append(f"| {name} | {ms:.1f} | {core_hours:,.0f} | {core_hours / WEEKEND_HOURS:.1f} "
                         f"| {core_hours / WEEK_HOURS:.1f} "
                         + "".join(f"| {ms / d:,.0f} " for d in drivers.values()) + "|")
        lines.append("")
    if drivers:
        lines += ["| driver (`bench_driver.py`, first scan) | CPU ms per item | items/s on one core "
                  "| driver hours for all mails |", "| --- | ---: | ---: | ---: |"]
        for backend, d in drivers.items():
            lines.append(f"| {backend} | {d:.3f} | {1000 / d:,.0f} | {_hours(d, mails):.1f} |")
        lines.append("")
    else:
        lines += ["(no `bench_driver.py` line in the input: driver sizing not computed)", ""]
    dates = sorted({str(r.get("date", ""))[:16] for kind in ("scan", "driver", "ner")
                    for r in rows.get(kind, []) if r.get("date")})
    loads = [r["first"]["load"][0] for r in rows.get("scan", [])] + [r["load"] for r in rows.get("driver", [])
                                                                      if "load" in r]
    if dates:
        lines += [f"Measured {dates[0]} to {dates[-1]}"
                  + (f", load average {min(loads):.1f}-{max(loads):.1f}" if loads else "") + ".", ""]
    lines.append(END)
    return "\n".join(lines)
