"""Property-based: whatever bytes arrive on the MIME and archive paths, no exception escapes
extract(), error codes stay in the documented set and part names stay clean."""

from __future__ import annotations

import base64

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.core.model import ItemKind
from scanner.extract import MESSAGES, Extraction
from tests.extract import corpus
from tests.extract.conftest import run

SETTINGS = settings(max_examples=int(__import__("os").environ.get("SCHOONSCHIP_HYPOTHESIS_EXAMPLES", "120")),
                    deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

CHARSETS = st.sampled_from(["utf-8", "us-ascii", "iso-8859-1", "windows-1252", "utf-16",
                            "x-unknown", "", '"utf-8', "utf-7", "cp037"])
ENCODINGS = st.sampled_from(["7bit", "base64", "quoted-printable", "8bit", "x-uuencode", "bogus"])
TYPES = st.sampled_from(["text/plain", "text/html", "application/pdf", "application/zip",
                         "application/octet-stream", "message/rfc822", "multipart/mixed",
                         "multipart/alternative", "application/ms-tnef", "image/jpeg", "text/csv"])
PAYLOADS = st.one_of(
    st.binary(max_size=600),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([corpus.zip_bytes({"a.txt": b"BSN 123456782"})[:80],
                     b"%PDF-1.4\n1 0 obj<<>>", b"\x78\x9f\x3e\x22\x00\x00", b"PK\x03\x04" + b"\x00" * 40,
                     b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100]),
)


@st.composite
def leaf(draw) -> bytes:
    ctype = draw(TYPES)
    charset = draw(CHARSETS)
    encoding = draw(ENCODINGS)
    payload = draw(PAYLOADS)
    if encoding == "base64" and draw(st.booleans()):
        payload = base64.b64encode(payload)[: draw(st.integers(0, 900))]
    headers = f"Content-Type: {ctype}; charset={charset}\r\nContent-Transfer-Encoding: {encoding}\r\n"
    if draw(st.booleans()):
        name = draw(st.text(max_size=20))
        headers += f'Content-Disposition: attachment; filename="{name}"\r\n'
    return headers.encode("utf-8", "surrogatepass") + b"\r\n" + payload


@st.composite
def mime(draw, depth: int = 0) -> bytes:
    subject = draw(st.one_of(st.text(max_size=40),
                             st.just("=?utf-8?b?QlNOIDEyMzQ1Njc4Mg==?="),
                             st.just("=?bogus?q?=ZZ?=")))
    head = f"From: a@b.example\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n".encode("utf-8", "surrogatepass")
    if depth >= 2 or draw(st.booleans()):
        return head + draw(leaf())
    boundary = draw(st.sampled_from(["b1", "", "x y", "--", "b1\x00"]))
    declared = draw(st.sampled_from([f'; boundary="{boundary}"', "", '; boundary="other"']))
    parts = draw(st.lists(st.one_of(leaf(), mime(depth=depth + 1)), max_size=4))
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    if draw(st.booleans()):
        body += b"--" + boundary.encode() + b"--\r\n"
    return head + f"Content-Type: multipart/mixed{declared}\r\n\r\n".encode() + body


def check(result: Extraction, limit: int) -> None:
    assert isinstance(result, Extraction)
    codes = {e.code for e in result.errors}
    assert codes <= set(MESSAGES)
    assert not codes & {"crashed", "timeout"}  # the worker itself must survive small inputs
    assert sum(len(p.text) for p in result.parts) <= limit
    for part in result.parts:
        assert "\x00" not in part.part and part.part
    for error in result.errors:
        assert " / " in error.message


@SETTINGS
@given(raw=mime())
def test_mime_never_raises(extractor, raw):
    check(run(extractor, raw, "m", ItemKind.MAIL), extractor.limits.max_text_chars)


@SETTINGS
@given(raw=st.binary(max_size=2000))
def test_random_bytes_as_mail_or_file_never_raise(extractor, raw):
    check(run(extractor, raw, "m", ItemKind.MAIL), extractor.limits.max_text_chars)
    check(run(extractor, raw, "x.zip", ItemKind.FILE), extractor.limits.max_text_chars)


_ARCHIVES = {
    "a.zip": corpus.zip_bytes({"in/leerlingen.csv": b"Naam;BSN\nJan;123456782\n",
                               "b.zip": corpus.zip_bytes({"c.txt": b"diep"})}),
    "a.tar.gz": corpus.tar_gz_bytes({"x.txt": b"tekst", "y.csv": b"a;b\n1;2\n"}),
    "a.7z": corpus.seven_zip_bytes({"x.txt": b"tekst in 7z"}),
    "a.gz": __import__("gzip").compress(b"Naam;BSN\nJan;123456782\n"),
    "a.docx": corpus.docx_bytes(["Verslag"], [["Naam", "BSN"], ["Jan", "123456782"]]),
    "a.xlsx": corpus.xlsx_bytes({"Blad": [["Naam", "BSN"], ["Jan", 123456782]]}),
}


@st.composite
def mutated_archive(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(_ARCHIVES)))
    data = bytearray(_ARCHIVES[name])
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "zero"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[position: position + draw(st.integers(1, 64))]
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif data:
            data[position: position + 4] = b"\xff\xff\xff\xff"
    return name, bytes(data)


@SETTINGS
@given(sample=mutated_archive())
def test_mutated_archives_never_raise(extractor, sample):
    name, data = sample
    check(run(extractor, data, name), extractor.limits.max_text_chars)
    check(run(extractor, corpus.mail_bytes("x", attachments={name: data}), "m", ItemKind.MAIL),
          extractor.limits.max_text_chars)
