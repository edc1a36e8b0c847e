"""Several mails' attachments go to the sandbox in one request, each mail with its own budgets.

A bad attachment among good ones (a zip bomb, a corrupt file, a parser that hangs, a worker
that dies) must cost only its own mail: the others keep their text, and every mail comes out
as it does when extracted on its own. The hang and the crash are charged to the mail the
worker was on because the worker answers mail by mail (``Sandbox.batch``)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from scanner.core.model import Fetched, ItemKind
from scanner.extract import Extraction, ExtractionCache, Extractor
from scanner.extract import sandbox as sandbox_module
from tests.extract import corpus
from tests.extract.conftest import codes, text_of


def _mail(name: str, data: bytes, body: str) -> Fetched:
    raw = corpus.mail_bytes(body, subject=name, attachments={name: data})
    return Fetched(name=f"{name}.eml", size=len(raw), data=raw)


def _good(i: int) -> Fetched:
    return _mail(f"rapport{i}.pdf", corpus.pdf_bytes([f"Rapport van leerling {i}"]), f"Bericht {i}")


def _dump(result: Extraction) -> tuple:
    return ([(p.part, p.text, p.location, p.context, p.content_hash) for p in result.parts],
            [(e.code, e.message, e.part) for e in result.errors], result.content_hash)


def _batch(extractor: Extractor, mails: list[Fetched], **overrides) -> list[Extraction]:
    limits = extractor.limits.model_copy(update=overrides)
    return extractor.extract_many([(m, ItemKind.MAIL) for m in mails], limits, ExtractionCache())


def _alone(extractor: Extractor, mails: list[Fetched], **overrides) -> list[Extraction]:
    limits = extractor.limits.model_copy(update=overrides)
    return [extractor.extract_with(m, ItemKind.MAIL, limits, ExtractionCache()) for m in mails]


def test_a_batch_is_one_request_and_gives_what_single_mails_give(extractor):
    mails = [_good(i) for i in range(6)]
    mails.append(_mail("lijst.xlsx", corpus.xlsx_bytes({"Klas": [["Naam", "BSN"], ["Noor", 123456782]]}),
                       "Lijst"))
    mails.append(Fetched(name="gewoon.eml", size=None, data=corpus.mail_bytes("Alleen tekst")))
    before = extractor.requests
    batched = _batch(extractor, mails)
    assert extractor.requests == before + 1
    assert [_dump(r) for r in batched] == [_dump(r) for r in _alone(extractor, mails)]
    assert all(f"Rapport van leerling {i}" in text_of(batched[i]) for i in range(6))


def test_the_same_attachment_in_two_mails_of_a_batch_is_parsed_once(extractor):
    pdf = corpus.pdf_bytes(["Gedeeld rapport"])
    mails = [_mail("gedeeld.pdf", pdf, "Eerste"), _mail("gedeeld.pdf", pdf, "Tweede")]
    cache = ExtractionCache()
    batched = extractor.extract_many([(m, ItemKind.MAIL) for m in mails], extractor.limits, cache)
    assert [_dump(r) for r in batched] == [_dump(r) for r in _alone(extractor, mails)]
    assert len(cache) == 1


@pytest.mark.parametrize("bad, code", [
    (lambda: _mail("bom.zip", corpus.zip_single_bomb(64), "Bom"), "zip_bomb"),
    (lambda: _mail("kapot.pdf", corpus.pdf_bytes(["Rapport"])[:300], "Kapot"), "corrupt"),
])
def test_a_bad_attachment_among_good_ones_costs_only_its_mail(extractor, bad, code):
    mails = [_good(1), bad(), _good(2)]
    batched = _batch(extractor, mails)
    assert [_dump(r) for r in batched] == [_dump(r) for r in _alone(extractor, mails)]
    assert code in {c for errors in codes(batched[1]).values() for c in errors}
    assert batched[0].errors == [] and batched[2].errors == []
    assert "Rapport van leerling 1" in text_of(batched[0]) and "Rapport van leerling 2" in text_of(batched[2])


@pytest.mark.slow
def test_a_hanging_parser_is_charged_to_its_mail_and_the_rest_is_read(extractor):
    mails = [_good(1), _mail("traag.pdf", corpus.slow_pdf(200_000), "Traag"), _good(2), _good(3)]
    pid = extractor.worker_pid
    batched = _batch(extractor, mails, max_seconds_per_item=1.0)
    assert [(e.code, e.part) for e in batched[1].errors] == [("timeout", "body")]
    assert "Traag" in text_of(batched[1], "body")  # its body was read in process
    for i, result in ((0, 1), (2, 2), (3, 3)):
        assert batched[i].errors == [] and f"Rapport van leerling {result}" in text_of(batched[i])
    assert pid is None or extractor.worker_pid != pid  # the hung worker was killed


FAKE_WORKER = '''
import json, os, struct, sys, time
fd_in, fd_out = os.dup(0), os.dup(1)
def read(n):
    b = b""
    while len(b) < n:
        c = os.read(fd_in, n - len(b))
        if not c: sys.exit(0)
        b += c
    return b
def frame():
    return read(struct.unpack(">I", read(4))[0])
def send(m):
    d = json.dumps(m).encode(); os.write(fd_out, struct.pack(">I", len(d)) + d)
log = open(sys.argv[1], "a")
send({"op": "ready"})
while True:
    req = json.loads(frame())
    frames = [frame() for _ in range(req.get("frames", 0))]
    for i, item in enumerate(req["items"]):
        name = item["parts"][0]["name"]
        log.write(name + "\\n"); log.flush()
        if name.startswith("crash"):
            os._exit(1)
        if name.startswith("oom"):
            os._exit(3)
        if name.startswith("slow"):
            time.sleep(1.0)
        send({"op": "item", "index": i, "parts": [[name, "tekst " + name, None, {}, None]],
              "errors": [], "slots": [[1, 0]], "stopped": None, "restart": False})
'''


def _fake_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Extractors made from now on talk to :data:`FAKE_WORKER`; returns its log of parts."""
    script, log = tmp_path / "fake_worker.py", tmp_path / "seen.log"
    script.write_text(FAKE_WORKER)

    class FakeSandbox(sandbox_module.Sandbox):
        def _start(self) -> None:
            import subprocess

            self._proc = subprocess.Popen([sys.executable, str(script), str(log)], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, close_fds=True)
            self.starts += 1
            assert sandbox_module.read_json(self._proc.stdout.fileno(), time.monotonic() + 30)["op"] == "ready"

    monkeypatch.setattr("scanner.extract.Sandbox", FakeSandbox)
    return log


def test_each_mail_of_a_batch_has_its_own_time_limit(tmp_path: Path, monkeypatch):
    """Three mails of 1 s each under a hard limit of 0.5 + 1 s grace per mail: all answered
    (a limit for the whole batch would have stopped the second)."""
    _fake_sandbox(tmp_path, monkeypatch)
    mails = [_mail(f"slow{i}.pdf", corpus.pdf_bytes(["x"]), "Traag") for i in range(3)]
    with Extractor() as extractor:
        batched = _batch(extractor, mails, max_seconds_per_item=0.5)
    assert [r.errors for r in batched] == [[], [], []]
    assert all(f"tekst slow{i}.pdf" in text_of(batched[i]) for i in range(3))


def test_a_crash_is_charged_to_the_mail_the_worker_was_on(tmp_path: Path, monkeypatch):
    """With a stand-in worker that dies on the part named crash...: that mail gets one retry
    (the worker may have been killed from outside), then ``crashed``; a mail that takes the
    worker over its memory cap gets ``memory_limit`` without retry; every other mail of the
    batch is answered, the ones after a failure by a fresh worker."""
    log = _fake_sandbox(tmp_path, monkeypatch)
    names = ["a.pdf", "crash.pdf", "b.pdf", "oom.pdf", "c.pdf"]
    mails = [_mail(name, corpus.pdf_bytes(["x"]), f"Bericht {name}") for name in names]
    with Extractor() as extractor:
        batched = _batch(extractor, mails)
        assert extractor._sandbox is not None and extractor._sandbox.starts == 4
    assert log.read_text().split() == ["a.pdf", "crash.pdf", "crash.pdf", "b.pdf", "oom.pdf", "c.pdf"]
    assert [e.code for e in batched[1].errors] == ["crashed"]
    assert [e.code for e in batched[3].errors] == ["memory_limit"]
    for i in (0, 2, 4):
        assert batched[i].errors == [] and f"tekst {names[i]}" in text_of(batched[i])
    for result, name in zip(batched, names, strict=True):
        assert f"Bericht {name}" in text_of(result, "body")


@pytest.mark.slow
def test_a_worker_killed_from_outside_during_a_batch_loses_nothing(extractor):
    """The real worker, killed while it hangs on the second mail: that mail is retried by a
    successor (and times out there), the mails around it keep their text."""
    # six pages of ~3 s each here: at least 2 s of parsing on a machine several times faster,
    # so the successor runs into the 2 s limit (one page of 100,000 operators did not on CI)
    mails = [_good(1), _mail("traag.pdf", corpus.slow_pdf(100_000, pages=6), "Traag"), _good(2)]
    _batch(extractor, [_good(0)])  # a worker is running
    pid = extractor.worker_pid
    assert pid is not None

    def kill_soon() -> None:
        time.sleep(0.5)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass

    killer = threading.Thread(target=kill_soon)
    killer.start()
    batched = _batch(extractor, mails, max_seconds_per_item=2.0)
    killer.join()
    assert [(e.code, e.part) for e in batched[1].errors] == [("timeout", "body")]
    assert batched[0].errors == [] and "Rapport van leerling 1" in text_of(batched[0])
    assert batched[2].errors == [] and "Rapport van leerling 2" in text_of(batched[2])
