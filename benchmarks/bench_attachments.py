"""The attachments of a bulk corpus: parser CPU per file and format, and the extraction of all
its mails with the sandbox (requests, CPU of this process and of the sandbox worker).

    python benchmarks/bench_attachments.py --corpus /tmp/bulk-corpus2000 [--rounds 3] [--batch 16]

1. Every distinct attachment the in-process walk of the corpus's mails defers (what goes to the
   sandbox) is extracted here, in this process, by the walker the sandbox runs: the best of
   ``--rounds`` per file, summed per format (``process_time``; the parsers are imported first).
2. The corpus's mails are extracted as the analysis does it, with one run-level cache: in
   batches of ``--batch`` (``Extractor.extract_many``; one by one where the tree has no batches),
   printing the sandbox requests and the CPU of the caller and of the sandbox worker (psutil).

The corpus is ``scanner.demo.generate_bulk`` (see bench_scan.py); it must exist. Prints figures,
asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner.core.model import Fetched, ItemKind
from scanner.extract import ExtractionCache, ExtractionLimits, Extractor
from scanner.extract.handler import Blob
from scanner.extract.walker import Walker


def _attachments(mails: list[bytes], limits: ExtractionLimits) -> dict[str, tuple[str, str, bytes]]:
    """content hash -> (format, name, bytes) of every part the in-process walk defers."""
    found: dict[str, tuple[str, str, bytes]] = {}
    for raw in mails:
        walker = Walker(limits, None, in_process=True)
        walker.run(Blob(data=raw), "m.eml", fmt="mail")
        for deferred in walker.deferred:
            found.setdefault(deferred.content_hash, (deferred.fmt, deferred.name, deferred.blob.read()))
    return found


def per_file(mails: list[bytes], limits: ExtractionLimits, rounds: int) -> None:
    from scanner.extract.worker import _preload

    _preload()
    found = _attachments(mails, limits)
    cpu: dict[str, list[float]] = defaultdict(list)
    for chash, (fmt, name, data) in sorted(found.items()):
        best = float("inf")
        for _ in range(rounds):
            walker = Walker(limits)
            started = time.process_time()
            walker.run(Blob(data=data), name, fmt=fmt, content_hash=chash)
            best = min(best, time.process_time() - started)
        cpu[name.rsplit(".", 1)[-1].lower()].append(best)
    print(f"{len(found)} distinct attachments (best of {rounds} per file, this process):")
    for kind, values in sorted(cpu.items()):
        print(f"  {kind:5} n={len(values):4}  median {statistics.median(values) * 1000:6.2f} ms  "
              f"mean {statistics.mean(values) * 1000:6.2f} ms  total {sum(values):6.3f} s")
    print(f"  all   total {sum(sum(v) for v in cpu.values()):.3f} s")


def _sandbox_cpu(extractor: Extractor) -> float:
    if extractor.worker_pid is None:
        return 0.0
    times = psutil.Process(extractor.worker_pid).cpu_times()
    return float(times.user + times.system)


def whole_corpus(mails: list[bytes], limits: ExtractionLimits, batch: int) -> None:
    items = [(Fetched(name="m.eml", size=len(raw), data=raw), ItemKind.MAIL) for raw in mails]
    with Extractor(limits) as extractor:
        extractor.extract(Fetched(name="warm.pdf", size=0, data=b"%PDF-1.4\n%%EOF\n"), ItemKind.FILE)
        start_sandbox, start_self, start_requests = _sandbox_cpu(extractor), time.process_time(), extractor.requests
        pid = extractor.worker_pid
        cache = ExtractionCache()
        many = getattr(extractor, "extract_many", None)
        for first in range(0, len(items), batch):
            chunk = items[first:first + batch]
            if many is not None:
                many(chunk, limits, cache)
            else:
                for fetched, kind in chunk:
                    extractor.extract_with(fetched, kind, limits, cache)
        caller = time.process_time() - start_self
        sandbox = _sandbox_cpu(extractor) - start_sandbox
        restarted = extractor.worker_pid != pid
    mode = f"batches of {batch}" if many is not None else "one by one (no batches in this tree)"
    print(f"{len(items)} mails, {mode}: {extractor.requests - start_requests} sandbox requests, "
          f"CPU caller {caller:.2f} s + sandbox {sandbox:.2f} s = {caller + sandbox:.2f} s "
          f"({(caller + sandbox) / len(items) * 1000:.3f} ms per mail)"
          + ("; the sandbox restarted: its CPU is incomplete" if restarted else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--skip-files", action="store_true", help="only the whole-corpus run")
    args = parser.parse_args()
    limits = ExtractionLimits()
    mails = [p.read_bytes() for p in sorted(args.corpus.rglob("*")) if p.is_file()]
    if not args.skip_files:
        per_file(mails, limits, args.rounds)
    whole_corpus(mails, limits, args.batch)


if __name__ == "__main__":
    main()
