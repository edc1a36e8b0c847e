"""A mail's bodies are read in the caller's process; only its attachments go to the sandbox.

The in-process walk defers every part that needs a binary parser and sends them, one request
per mail, with the mail's remaining budgets. Each test compares with the whole mail walked in
the sandbox (``inprocess_max_bytes=0``, the path every item took before), so the limits are
shown to be exactly as strict, with the same errors on the same parts, in the same order.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from scanner.core.model import Fetched, ItemKind
from scanner.extract import Extraction, ExtractionCache, Extractor
from scanner.extract.sandbox import Sandbox
from tests.extract import corpus
from tests.extract.conftest import codes, text_of

BODY = "Beste collega,\n\nDe zorgmelding over leerling Noor (BSN 123456782) staat hieronder.\n"
MARK = "zorgmelding over leerling Noor"


def _mail(attachments: dict[str, bytes], body: str = BODY) -> bytes:
    return corpus.mail_bytes(body, subject="Overdracht", attachments=attachments, html=f"<p>{body}</p>")


def _extract(extractor: Extractor, raw: bytes, cache: ExtractionCache | None = None,
             **limit_overrides: Any) -> Extraction:
    limits = extractor.limits.model_copy(update=limit_overrides)
    return extractor.extract_with(Fetched(name="bericht.eml", size=len(raw), data=raw), ItemKind.MAIL,
                                  limits, cache)


def _whole(extractor: Extractor, raw: bytes, **limit_overrides: Any) -> Extraction:
    """The same mail walked entirely in the sandbox."""
    return _extract(extractor, raw, **limit_overrides, inprocess_max_bytes=0)


def _same(a: Extraction, b: Extraction) -> None:
    assert [(p.part, p.text, p.location, p.context, p.content_hash) for p in a.parts] == \
        [(p.part, p.text, p.location, p.context, p.content_hash) for p in b.parts]
    assert [(e.code, e.message, e.part) for e in a.errors] == [(e.code, e.message, e.part) for e in b.errors]
    assert a.content_hash == b.content_hash


class _Spy:
    """Records what crosses to the sandbox: each request's JSON and frames."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[tuple[dict[str, Any], list[bytes]]] = []
        real_request, real_batch = Sandbox.request, Sandbox.batch

        def request(sandbox: Sandbox, request: dict[str, Any], data: bytes | None, cache: Any,
                    hard_seconds: float) -> dict[str, Any]:
            self.sent.append((request, [data] if data is not None else []))
            return real_request(sandbox, request, data, cache, hard_seconds)

        def batch(sandbox: Sandbox, request: dict[str, Any], items: list[dict[str, Any]],
                  frames: list[list[bytes]], cache: Any, hard_seconds: float) -> list[Any]:
            self.sent.append((dict(request, op="resume_batch", items=items),
                              [frame for mine in frames for frame in mine]))
            return real_batch(sandbox, request, items, frames, cache, hard_seconds)

        monkeypatch.setattr(Sandbox, "request", request)
        monkeypatch.setattr(Sandbox, "batch", batch)

    def crossed(self, text: str) -> bool:
        needle = text.encode("utf-8")
        return any(text in json.dumps(request, ensure_ascii=False) or any(needle in f for f in frames)
                   for request, frames in self.sent)


def test_plain_mail_makes_no_sandbox_request(extractor, monkeypatch):
    spy = _Spy(monkeypatch)
    before = extractor.requests
    result = _extract(extractor, corpus.mail_bytes(BODY, attachments={"lijst.csv": b"naam,bsn\nNoor,123456782\n"}))
    assert extractor.requests == before and spy.sent == []
    assert MARK in text_of(result, "body") and "123456782" in text_of(result, "lijst.csv")


def test_attachments_go_in_one_request_and_the_body_stays(extractor, monkeypatch):
    raw = _mail({"rapport.pdf": corpus.pdf_bytes(["Rapport van Noor"]),
                 "notities.txt": b"los tekstbestand",
                 "lijst.xlsx": corpus.xlsx_bytes({"Klas": [["Naam", "BSN"], ["Noor", 123456782]]}),
                 "verslag.docx": corpus.docx_bytes(["Verslag over Noor"])})
    spy = _Spy(monkeypatch)
    before = extractor.requests
    result = _extract(extractor, raw)
    assert extractor.requests == before + 1
    (request, frames), = spy.sent
    (item,) = request["items"]
    assert request["op"] == "resume_batch" and [p["path"] for p in item["parts"]] == \
        ["rapport.pdf", "lijst.xlsx", "verslag.docx"]
    assert len(frames) == 3
    assert not spy.crossed(MARK) and not spy.crossed("los tekstbestand")
    assert [p.part for p in result.parts][:2] == ["subject", "body"]
    _same(result, _whole(extractor, raw))


def test_zip_bomb_in_an_attachment_stops_at_the_same_limit(extractor):
    raw = _mail({"bom.zip": corpus.zip_single_bomb(64), "daarna.txt": b"na de bom"})
    result = _extract(extractor, raw)
    assert codes(result) == {"bom.zip/nullen.txt": {"zip_bomb"}}
    assert MARK in text_of(result, "body") and text_of(result, "daarna.txt") == "na de bom"
    _same(result, _whole(extractor, raw))


def test_nested_bomb_and_member_count_share_the_mail_budgets(extractor):
    raw = _mail({"a.zip": corpus.zip_bytes({f"{i}.txt": b"lid" for i in range(4)}),
                 "b.zip": corpus.zip_bytes({f"{i}.txt": b"lid" for i in range(4)}),
                 "n.zip": corpus.nested_bomb(levels=3, fanout=8, leaf_mib=16)})
    result = _extract(extractor, raw, max_archive_members=6)
    assert "too_many_members" in {e.code for e in result.errors}
    assert MARK in text_of(result, "body")
    _same(result, _whole(extractor, raw, max_archive_members=6))
    _same(_extract(extractor, raw), _whole(extractor, raw))


def test_depth_limit_counts_from_the_mail(extractor):
    raw = _mail({"diep.zip": corpus.deeply_nested_zip(10, corpus.BSN)})
    result = _extract(extractor, raw, max_depth=3)
    assert "nesting_too_deep" in {e.code for e in result.errors}
    deepest = max(p.part.count("/") for p in result.parts if p.part.startswith("diep.zip"))
    assert deepest == 3 - 1  # the attachment is depth 1, as in one walk of the whole mail
    _same(result, _whole(extractor, raw, max_depth=3))


def test_forwarded_mail_defers_its_attachment_in_place(extractor):
    import email
    from email.mime.message import MIMEMessage
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    inner = corpus.mail_bytes("Binnenste bericht", subject="Doorgestuurd",
                              attachments={"in.pdf": corpus.pdf_bytes(["Bijlage binnenin"])})
    outer = MIMEMultipart("mixed")
    outer["Subject"] = "Fwd"
    outer.attach(MIMEText(BODY, "plain", "utf-8"))
    outer.attach(MIMEMessage(email.message_from_bytes(inner)))
    outer.attach(MIMEText("Slot na het doorgestuurde bericht", "plain", "utf-8"))
    raw = outer.as_bytes()
    cache = ExtractionCache()
    result = _extract(extractor, raw, cache)
    texts = [p.text for p in result.parts]
    # the PDF's text stands where the PDF stood: before the closing text part
    assert texts.index("Bijlage binnenin") < texts.index("Slot na het doorgestuurde bericht")
    _same(result, _whole(extractor, raw))
    _same(_extract(extractor, raw, cache), result)  # the nested mail was not cached without its PDF


def test_corrupt_attachment_is_an_error_of_its_part_and_the_body_is_kept(extractor):
    pdf = corpus.pdf_bytes(["Rapport"])
    raw = _mail({"kapot.pdf": pdf[: len(pdf) // 2], "goed.txt": b"goed"})
    result = _extract(extractor, raw)
    assert codes(result) == {"kapot.pdf": {"corrupt"}}
    assert MARK in text_of(result, "body") and "123456782" in text_of(result, "body")
    _same(result, _whole(extractor, raw))


def test_text_budget_running_out_gives_what_one_walk_gives(extractor):
    raw = _mail({"a.pdf": corpus.pdf_bytes(["pdf tekst " * 50]), "b.txt": b"na de pdf " * 200},
                body=BODY * 5)
    for chars in (1000, 1400, 3000):
        result = _extract(extractor, raw, max_text_chars=chars)
        _same(result, _whole(extractor, raw, max_text_chars=chars))
    assert "text_truncated" in {e.code for e in _extract(extractor, raw, max_text_chars=1000).errors}


def test_soft_time_limit_in_an_attachment_keeps_the_body(extractor):
    rows = [["Naam", "BSN"]] + [[f"Leerling {i}", corpus.BSN] for i in range(20_000)]
    raw = _mail({"groot.xlsx": corpus.xlsx_bytes({"Groot": rows}), "daarna.txt": b"na het werkblad"})
    result = _extract(extractor, raw, max_seconds_per_item=0.3)
    assert codes(result)["body"] == {"timeout"}
    assert MARK in text_of(result, "body")
    # the walk stopped in the sheet: what came after it in the mail is not read, as before
    assert text_of(result, "daarna.txt") == ""


@pytest.mark.slow
def test_hung_attachment_parser_is_killed_and_the_body_kept(extractor):
    raw = _mail({"traag.pdf": corpus.slow_pdf(200_000)})
    pid = extractor.worker_pid
    result = _extract(extractor, raw, max_seconds_per_item=1.0)
    assert [(e.code, e.part) for e in result.errors] == [("timeout", "body")]
    assert MARK in text_of(result, "body")
    assert pid is None or extractor.worker_pid != pid
