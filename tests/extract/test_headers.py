"""The subject and date the analysis takes from extraction's parse of a mail are the ones the
header-block reader gives (``connectors.mailheaders``), for ordinary and odd header blocks."""

from __future__ import annotations

from datetime import datetime

import pytest

from scanner.analysis import _with_headers
from scanner.core.model import Fetched, ItemKind, ItemRef
from scanner.extract import Extractor
from tests.extract import corpus

_ODD = [
    b"Subject: =?utf-8?q?Zorgmelding_=C3=A9l=C3=A8ve?=\r\nDate: Tue, 03 Nov 2026 09:15:00 +0100\r\n\r\nTekst\r\n",
    b"Subject: gevouwen\n onderwerp\n\tover regels\nDate: garbage\n\nTekst\n",
    b"Subject: ruwe bytes \xe9\xe8 latin-1\nDate: 3 Nov 2026 09:15:00\n\nTekst\n",
    b"From: a@b\nDate: Tue, 03 Nov 2026 09:15:00 -0000\n\nZonder onderwerp\n",
    b"Subject: geen lege regel\nDate: Tue, 03 Nov 2026 09:15:00 +0000\n",
    b"\nSubject: na een lege eerste regel\n",
    b"Subject: kop zonder dubbele punt\ndit is geen kop\nDate: Tue, 03 Nov 2026 09:15:00 +0000\n\nTekst\n",
    b"Subject: " + b"lang " * 20_000 + b"\nDate: Tue, 03 Nov 2026 09:15:00 +0000\n\nTekst\n",
    b"X-Vulling: " + b"x" * 70_000 + b"\nSubject: na 64 kB\n\nTekst\n",
]


def _ref() -> ItemRef:
    return ItemRef(source="mail", item_key="1", kind=ItemKind.MAIL, owner="docent", folder="Inbox",
                   title="", date=datetime(2026, 1, 1))


@pytest.mark.parametrize("raw", [*_ODD, corpus.mail_bytes("Tekst", subject="Leerling Noor",
                                                            attachments={"a.pdf": corpus.pdf_bytes(["x"])})])
def test_parsed_headers_give_what_the_header_reader_gives(extractor: Extractor, raw: bytes):
    fetched = Fetched(name="1.eml", size=len(raw), data=raw)
    extraction = extractor.extract(fetched, ItemKind.MAIL)
    assert extraction.headers is not None
    from_parse = _with_headers(_ref(), fetched, extraction.headers)
    from_block = _with_headers(_ref(), fetched)
    assert (from_parse.title, from_parse.date) == (from_block.title, from_block.date)
