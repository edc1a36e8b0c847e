"""The sandbox: hung parsers are killed and replaced, memory is capped, and extraction works
from threads and daemonic pool processes (where multiprocessing children are forbidden)."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from scanner.core.model import Fetched, ItemKind
from scanner.extract import ExtractionLimits, Extractor, extract
from tests.extract import corpus
from tests.extract.conftest import all_codes, assert_healthy, run, text_of


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/status") as status:
            return "zombie" not in status.read()
    except FileNotFoundError:
        return False


@pytest.mark.slow
def test_hung_parser_is_killed_and_worker_restarted(extractor):
    assert_healthy(extractor)
    before = extractor.worker_pid
    # one extract_text() call on this 11 kB page runs ~7 s: no cooperative stop is possible
    result = run(extractor, corpus.slow_pdf(200_000), "traag.pdf", max_seconds_per_item=1.0)
    assert all_codes(result) == {"timeout"} and result.parts == []
    assert result.content_hash is not None
    assert before is not None and not _alive(before)  # nothing left behind
    assert_healthy(extractor)
    assert extractor.worker_pid != before


def test_soft_deadline_returns_partial_text(extractor):
    rows = [["Naam", "BSN"]] + [[f"Leerling {i}", corpus.BSN] for i in range(20_000)]
    data = corpus.xlsx_bytes({"Groot": rows})
    pid = extractor.worker_pid
    result = run(extractor, data, "groot.xlsx", max_seconds_per_item=0.3)
    assert "timeout" in all_codes(result)
    if pid is not None and extractor.worker_pid == pid:
        # stopped by itself in time: what it read so far is kept
        assert all(p.context.get("column_headers") == ["Naam", "BSN"] for p in result.parts)
    assert_healthy(extractor)


@pytest.mark.slow
def test_memory_cap_turns_exhaustion_into_an_error(tmp_path):
    tight = ExtractionLimits(max_memory_bytes=400 * 1024 * 1024)
    path = corpus.heavy_ods(tmp_path / "zwaar.ods")
    with Extractor(tight) as ext:
        result = ext.extract(Fetched(name="zwaar.ods", size=path.stat().st_size, path=path),
                             ItemKind.FILE)
        assert all_codes(result) == {"memory_limit"}
        assert_healthy(ext)


def test_threads_each_get_a_worker():
    limits = ExtractionLimits()
    pdf = corpus.pdf_bytes(["Leerling Sara"])

    def one(i: int) -> str:
        result = extract(Fetched(name=f"{i}.pdf", size=len(pdf), data=pdf), ItemKind.FILE, limits)
        assert result.errors == []
        return text_of(result)

    with ThreadPoolExecutor(max_workers=3) as pool:
        texts = list(pool.map(one, range(9)))
    assert all("Sara" in t for t in texts)


def _daemon_job(queue) -> None:  # runs in a daemonic multiprocessing worker
    pdf = corpus.pdf_bytes(["Leerling Ilse"])
    result = extract(Fetched(name="x.pdf", size=len(pdf), data=pdf), ItemKind.FILE, ExtractionLimits())
    queue.put((sorted(all_codes(result)), text_of(result)))


def test_works_inside_a_daemonic_process():
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_daemon_job, args=(queue,), daemon=True)
    process.start()
    codes, text = queue.get(timeout=120)
    process.join(30)
    assert codes == [] and "Ilse" in text


def test_plain_mail_needs_no_worker():
    with Extractor(ExtractionLimits()) as ext:
        result = run(ext, corpus.mail_bytes("Gewone mail over Bo", html="<p>Gewone mail over Bo</p>"),
                     "m", ItemKind.MAIL)
        assert "Bo" in text_of(result, "body")
        assert ext.worker_pid is None  # the fast path handled it in-process
        result = run(ext, corpus.mail_bytes("met pdf", attachments={"a.pdf": corpus.pdf_bytes(["Bo"])}),
                     "m", ItemKind.MAIL)
        assert ext.worker_pid is not None and "Bo" in text_of(result, "a.pdf")


@pytest.mark.slow
def test_worker_does_not_outlive_a_killed_caller(tmp_path):
    """A caller killed with SIGKILL while its worker is busy leaves no worker behind."""
    import signal
    import subprocess
    import sys
    import time

    slow = tmp_path / "traag.pdf"
    slow.write_bytes(corpus.slow_pdf(200_000))
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from scanner.extract import Extractor\n"
        "from scanner.core.model import Fetched, ItemKind\n"
        "ex = Extractor()\n"
        "ex.extract(Fetched(name='a.txt', size=5, data=b'hallo'*300000), ItemKind.FILE)\n"
        "print(ex.worker_pid, flush=True)\n"
        f"p = Path({str(slow)!r})\n"
        "ex.extract(Fetched(name='traag.pdf', size=p.stat().st_size, path=p), ItemKind.FILE)\n"
    )
    caller = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              cwd=str(__import__("pathlib").Path(__file__).parents[2]))
    worker = int(caller.stdout.readline())
    time.sleep(1.0)  # the worker is now deep inside extract_text()
    assert _alive(worker)
    caller.send_signal(signal.SIGKILL)
    caller.wait(10)
    for _ in range(50):
        if not _alive(worker):
            break
        time.sleep(0.1)
    assert not _alive(worker)


def test_worker_killed_between_items_is_replaced(extractor):
    import signal

    assert_healthy(extractor)
    pid = extractor.worker_pid
    os.kill(pid, signal.SIGKILL)
    assert_healthy(extractor)  # the dead worker is noticed and a new one takes the item
    assert extractor.worker_pid != pid
