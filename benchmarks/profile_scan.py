"""Where a full scan's CPU goes, per mail and per stage, without a sampling profiler.

    python benchmarks/profile_scan.py --corpus /tmp/bulk-corpus2000 --mails 2000

Issue 21 item 2 asks for the profile of the bulk scan redone and each hot spot explained. A
sampling profiler (pyinstrument) sees only the driver and adds its own overhead to every frame;
this script runs the same inline scan as ``bench_scan.py --executor inline`` (the real
``ScanRunner``, a fresh SQLite store) with ``time.process_time`` wrappers around the stages
named in :data:`STAGES`, and takes the extraction sandbox's CPU from psutil. Each stage's time
is its *own* time: a wrapped stage that runs inside another (the email parser inside the mail
walk) is subtracted from the outer one, so the rows add up to the driver's CPU, and "rest of
the driver" is what no wrapper covers (pipeline bookkeeping, the executor, start-up).

A stage that a later change renamed or removed is printed as ``not found`` instead of failing:
the table then says which row to update here.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import inspect
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_scan import ensure_corpus, one_scan, scan_settings

#: (label, module, attribute path): the stages measured, in the order printed.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("crawl (listing the Maildir)", "connectors.local_mail", "MaildirConnector.crawl"),
    ("triage (what is new or changed)", "scanner.pipeline", "ScanRunner._triage"),
    ("fetch (read the mail file)", "connectors.local_mail", "MaildirConnector.fetch"),
    ("mail walk in process, own time", "scanner.extract.walker", "Walker.run"),
    ("email parse, mimeparse.message_from_bytes (in the walk)", "scanner.extract.mimeparse",
     "message_from_bytes"),
    ("sandbox requests, driver side (a batch's attachments)", "scanner.extract", "Extractor.finish"),
    ("subject and date", "scanner.analysis", "_with_headers"),
    ("detection (analyze_many)", "detectors.engine", "Detector.analyze_many"),
    ("metadata masking", "scanner.analysis", "_redact_metadata"),
    ("storing results", "scanner.store.store", "Store.save_result_groups"),
    ("unit bookkeeping (completions)", "scanner.pipeline", "ScanRunner._save_completions"),
    ("retention pass", "scanner.pipeline", "recompute_retention"),
)


class Clock:
    """Own CPU time per stage: a stack of running stages, the inner one's time taken out of
    the outer one's (generator stages are timed per resumption, which nests the same way)."""

    def __init__(self) -> None:
        self.own: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[list[Any]] = []

    def enter(self, label: str) -> None:
        self._stack.append([label, time.process_time(), 0.0])

    def leave(self) -> None:
        label, started, inner = self._stack.pop()
        spent = time.process_time() - started
        self.own[label] = self.own.get(label, 0.0) + spent - inner
        if self._stack:
            self._stack[-1][2] += spent

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen(*args: Any, **kwargs: Any) -> Iterator[Any]:
                self.calls[label] = self.calls.get(label, 0) + 1
                inner = fn(*args, **kwargs)
                value = None
                while True:
                    self.enter(label)
                    try:
                        item = inner.send(value)
                    except StopIteration as stop:
                        return stop.value
                    finally:
                        self.leave()
                    value = yield item
            return gen

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[label] = self.calls.get(label, 0) + 1
            self.enter(label)
            try:
                return fn(*args, **kwargs)
            finally:
                self.leave()
        return call


def install(clock: Clock) -> list[str]:
    """Wrap every stage; returns the labels that could not be found."""
    missing = []
    for label, module_name, path in STAGES:
        try:
            owner: Any = importlib.import_module(module_name)
            *parents, name = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            original = inspect.getattr_static(owner, name)
        except (ImportError, AttributeError):
            missing.append(label)
            continue
        setattr(owner, name, clock.wrap(label, original))
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path(tempfile.gettempdir()) / "bulk-corpus2000")
    parser.add_argument("--mails", type=int, default=2000, help="corpus size when it must be generated")
    args = parser.parse_args()
    root = ensure_corpus(args.corpus, args.mails)
    clock = Clock()
    missing = install(clock)
    with tempfile.TemporaryDirectory(prefix="profile-scan-") as tmp:
        settings = scan_settings(root, Path(tmp) / "state", {"kind": "inline"})
        result = one_scan(settings, [])
    mails = max(result["analysed"], 1)
    roles = result["cpu_by_role"]
    driver = result["driver_cpu"]
    rows = [(label, clock.own.get(label, 0.0)) for label, _, _ in STAGES if label not in missing]
    rows.append(("rest of the driver (pipeline, executor, start-up)", driver - sum(s for _, s in rows)))
    rows.append(("extraction sandbox process (psutil)", roles.get("sandbox", 0.0)))
    total = driver + roles.get("sandbox", 0.0)
    print(f"inline scan of {result['analysed']} mails ({result['flagged']} flagged, {result['errors']} item "
          f"errors), load average {result['load'][0]:.1f} -> {result['load'][1]:.1f}; CPU {total:.2f} s = "
          f"{1000 * total / mails:.2f} ms per mail (driver {driver:.2f} s, sandbox "
          f"{roles.get('sandbox', 0.0):.2f} s)")
    print("| ms per mail | share | stage |")
    print("| ---: | ---: | --- |")
    for label, seconds in rows:
        print(f"| {1000 * seconds / mails:.3f} | {100 * seconds / max(total, 1e-9):.1f} % | {label} |")
    for label in missing:
        print(f"| - | - | {label}: not found (renamed? update STAGES) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
