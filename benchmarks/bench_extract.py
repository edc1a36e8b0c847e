"""Extraction throughput: fast path versus sandbox, PDF attachments, the run-level cache.

A mail with attachments is read in process and only its attachments go to the sandbox (one
request per mail); "whole mail through the sandbox" is the way every such mail went before.
CPU per item counts this process and the sandbox worker (psutil).

Run: .venv/bin/python benchmarks/bench_extract.py [N]
Prints items per second and milliseconds per item; no assertions (see tests/extract for those).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner.core.model import Fetched, ItemKind
from scanner.extract import ExtractionCache, ExtractionLimits, Extractor
from tests.extract import corpus


def _cpu(extractor: Extractor) -> float:
    """CPU seconds of this process and of the extractor's sandbox worker."""
    total = time.process_time()
    if extractor.worker_pid is not None:
        try:
            times = psutil.Process(extractor.worker_pid).cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def bench(label: str, extractor: Extractor, items: list[bytes], kind: ItemKind,
          limits: ExtractionLimits, cache: ExtractionCache | None = None) -> None:
    extractor.extract(Fetched(name="warm.eml", size=len(items[0]), data=items[0]), kind)  # sandbox up
    start, cpu, requests = time.perf_counter(), _cpu(extractor), extractor.requests
    for i, raw in enumerate(items):
        result = extractor.extract_with(Fetched(name=f"{i}.eml", size=len(raw), data=raw), kind, limits, cache)
        assert not {e.code for e in result.errors} - {"text_truncated"}, result.errors
    seconds, cpu = time.perf_counter() - start, _cpu(extractor) - cpu
    print(f"{label:<52} {len(items) / seconds:8.1f} items/s {1000 * cpu / len(items):8.2f} ms CPU/item "
          f"{(extractor.requests - requests) / len(items):5.2f} sandbox requests/item")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    limits = ExtractionLimits()
    no_fast_path = limits.model_copy(update={"inprocess_max_bytes": 0})
    body = "Beste collega,\n\nHierbij de gegevens van Jan (BSN 123456782).\n" * 40
    plain = [corpus.mail_bytes(body + str(i), subject=f"Leerling {i}",
                               html=f"<p>{body}{i}</p>") for i in range(n)]
    pdf_mails = [corpus.mail_bytes(body, attachments={"rapport.pdf": corpus.pdf_bytes([f"Rapport {i}", body])})
                 for i in range(n)]
    same_pdf = corpus.pdf_bytes(["Klassenlijst", body])
    cached_mails = [corpus.mail_bytes(body + str(i), attachments={"lijst.pdf": same_pdf}) for i in range(n)]
    sheet = corpus.xlsx_bytes({"Klas": [["Naam", "BSN", "Klas"]] + [[f"L{i}", 123456782, "3B"] for i in range(10_000)]})

    extractor = Extractor(limits)
    start = time.perf_counter()
    extractor.extract(Fetched(name="warm.pdf", size=len(same_pdf), data=same_pdf), ItemKind.FILE)
    print(f"{'sandbox worker start + first PDF':<52} {1000 * (time.perf_counter() - start):8.0f} ms")
    bench("plain+HTML mail, in-process fast path", extractor, plain, ItemKind.MAIL, limits)
    bench("plain+HTML mail, forced through the sandbox", extractor, plain, ItemKind.MAIL, no_fast_path)
    bench("mail + distinct small PDF (attachment to sandbox)", extractor, pdf_mails, ItemKind.MAIL, limits)
    bench("mail + distinct small PDF, whole mail through sandbox", extractor, pdf_mails, ItemKind.MAIL,
          no_fast_path)
    cache = ExtractionCache()
    bench("mail + identical PDF, run-level cache", extractor, cached_mails, ItemKind.MAIL, limits, cache)
    print(f"{'':<52} cache hits {cache.hits}, misses {cache.misses}")
    bench("XLSX 10,000 rows x 3 columns", extractor, [sheet] * 5, ItemKind.FILE, limits)
    extractor.close()


if __name__ == "__main__":
    main()
