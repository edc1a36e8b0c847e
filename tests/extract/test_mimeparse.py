"""scanner.extract.mimeparse parses every mail to the same tree as the standard library.

The module carries a copy of the standard library's ``FeedParser._parsegen`` with a cheaper
boundary match (see its docstring); these tests compare whole trees (headers, payloads,
preambles, epilogues, defects, default types) with ``email.message_from_bytes`` on ordinary
mails, the hand-made malformed ones below, the MIME oddities of the extraction corpus and
deterministic mutations of them (line endings, boundary lines, truncation).
"""

from __future__ import annotations

import email
import random
import re
import sys
from email.message import Message
from typing import Any

import pytest

from scanner.extract import mimeparse
from tests.extract import corpus


def tree(msg: Message) -> tuple[Any, ...]:
    payload = msg._payload  # type: ignore[attr-defined]
    return (type(msg), msg.get_unixfrom(), msg.get_default_type(), msg.preamble, msg.epilogue,
            msg._headers,  # type: ignore[attr-defined]
            [(type(d), str(d), getattr(d, "line", None)) for d in msg.defects],
            [tree(part) for part in payload] if isinstance(payload, list) else payload)


B = b"Content-Type: multipart/mixed; boundary=b\n\n"
HAND_MADE = [
    B + b"pre\n--b  \t\r\nContent-Type: text/plain\n\nhi\r\n--b--\r",
    B + b"--b\nA: 1\n\nx\n--b-- junk\nmore\n--b--",
    B + b"--b\n\nx\n--bX\ny\n--b--\n\n\nepi\n",
    B + b"--b\n\nx\n--b---\n--b--\t \n",
    B + b"--b\r\n\r\nx\r\n\r\n--b--\r\n\r\n",
    B + b"--b\r\r\nx\r\n--b--",
    B + b"--b\n\n" + b"line\r\n" * 3000 + b"\r\n--b--\n",
    B, B + b"--b", B + b"--b--", B + b"--b\n", B + b"--B\n\nx\n--B--\n",
    b'Content-Type: multipart/mixed; boundary="a.b*c(d)[e]"\n\n--a.b*c(d)[e]\n\nx\n--a.b*c(d)[e]--\n',
    b'Content-Type: multipart/mixed; boundary="a b"\n\n--a b\n\nx\n--a b--\n',
    b'Content-Type: multipart/mixed; boundary=""\n\n--\n\nx\n----\n',
    b'Content-Type: multipart/mixed;\n boundary="x\n y"\n\n--x\n y\n\nz\n--x\n y--\n',
    b"Content-Type: multipart/mixed; boundary=\xff\xfe\n\n--\xff\xfe\n\nx\n--\xff\xfe--\n",
    b"Content-Type: multipart/mixed; boundary=b\nContent-Transfer-Encoding: base64\n\n--b\n\nx\n--b--\n",
    b"Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: inner\n\nbody\n--d--\n",
    b"Content-Type: multipart/report; boundary=r\n\n--r\nContent-Type: message/delivery-status\n\n"
    b"A: 1\n\nB: 2\nC: 3\n\n--r--\n",
    b"Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/alternative; "
    b"boundary=i\n\n--i\n\nt\n--o\n\nafter\n--o--\n",
    b"Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/alternative; "
    b"boundary=i\n\n--i\n\nt\n--i--\nepi\n--o--",
    b"Content-Type: message/rfc822\n\nContent-Type: multipart/mixed; boundary=q\n\n--q\n\nin\n--q--\n",
    b"Content-Type: multipart/mixed\n\n--ABC\n\nno boundary parameter\n--ABC--\n",
    b"", b"\n\nbody only", b" cont\nSubject: x\n\nb", b"Subject: no separator\nthis is body",
    b"From x\nSubject: a\nFrom y\n\nb",
]


def ordinary() -> list[bytes]:
    return [
        corpus.mail_bytes("Beste ouders,\nHet rapport.", attachments={"a.txt": b"x" * 9000}),
        corpus.mail_bytes("platte tekst", html="<p>html</p>", attachments={"b.bin": bytes(range(256))}),
        corpus.mime_wrong_charset(), corpus.mime_missing_boundary(), corpus.mime_wrong_boundary(),
    ]


def mutations(raw: bytes, rnd: random.Random) -> list[bytes]:
    """Damage of the kinds real mail shows: other line endings, whitespace, junk or dashes
    after boundaries, missing or doubled boundary lines, truncation, no final newline."""
    out = [re.sub(rb"\r?\n", b"\r\n", raw), re.sub(rb"\r?\n", b"\r", raw),
           re.sub(rb"\r?\n", b"\n", raw), raw.rstrip(b"\r\n")]
    out += [raw[: rnd.randrange(len(raw))] for _ in range(3)]
    for found in {m.group(1) for m in re.finditer(rb'boundary="?([^";\r\n]+)"?', raw, re.I)}:
        line = b"--" + found
        for tail in (b" ", b"\t \t", b"--", b"-- ", b"X", b"--X", b"---"):
            out.append(re.sub(re.escape(line) + rb"(?=\r?\n)", lambda _, new=line + tail: new, raw, count=1))
        out += [raw.replace(line + b"--", b""), raw.replace(line, line + b"\n" + line, 1),
                raw.replace(line, line.swapcase(), 1)]
    return out


def cases() -> list[bytes]:
    rnd = random.Random(21)
    mails = HAND_MADE + ordinary()
    return mails + [m for raw in ordinary() for m in mutations(raw, rnd)]


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="a copy of 3.11's parser, used there only")
def test_same_tree_as_the_standard_library() -> None:
    assert mimeparse.message_from_bytes is mimeparse._message_from_bytes
    for raw in cases():
        assert tree(mimeparse.message_from_bytes(raw)) == tree(email.message_from_bytes(raw)), raw[:200]


@pytest.mark.parametrize("text", ["", "x", "\n", "\r", "\r\n", "x\n\r", "x\r\n", "\n\n", "x\r\r", "\r\n\n"])
def test_eol_len_is_the_regex(text: str) -> None:
    found = re.search(r"(\r\n|\r|\n)\Z", text)
    assert mimeparse._eol_len(text) == (len(found.group(0)) if found else 0)
