"""Turn a :class:`~scanner.demo.scenarios.MailSpec` into RFC 5322 bytes, deterministically.

The mix of encodings is deliberate, because extraction must cope with all of them: bodies are
quoted-printable, base64 or 8bit, UTF-8 or ISO-8859-1; some mails are multipart/alternative with
an HTML part, some HTML only; attachments are base64 and may be a whole forwarded message with
its own attachment. Non-ASCII subjects, names and file names use encoded words and RFC 2231.

Why the compat32 ``email.mime`` classes and not ``EmailMessage``: the modern header registry
parses every header it is given, which made generation three to four times slower (about
2.5 ms per mail); the corpus must write 20,000 mails in well under a minute. MIME boundaries
are derived from the Message-ID (the email package would pick random ones), so the same seed
gives the same bytes.
"""

from __future__ import annotations

import html
import random
from datetime import datetime
from email import charset as email_charset
from email._policybase import Compat32
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr

from scanner.demo.scenarios import Address, MailSpec, aware

_MAILERS = (
    "Microsoft Outlook 16.0", "Microsoft Outlook 15.0", "Apple Mail (2.3774)",
    "Mozilla Thunderbird 115.6.0", None, None,
)


class _FastCompat32(Compat32):
    """compat32 with a fast path for short ASCII headers (the vast majority).

    Folding each header through ``email.header.Header`` cost about 1 ms per mail; a short
    ASCII header folds to itself, so it is written directly.
    """

    def fold_binary(self, name: str, value: object) -> bytes:
        if isinstance(value, str) and value.isascii() and "\n" not in value and len(name) + len(value) < 76:
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)  # type: ignore[arg-type]


LF_POLICY = _FastCompat32()
CRLF_POLICY = _FastCompat32(linesep="\r\n")
_ENCODINGS = {"quoted-printable": email_charset.QP, "base64": email_charset.BASE64, "8bit": None}


def _charset(name: str, cte: str) -> email_charset.Charset:
    cs = email_charset.Charset(name)
    cs.header_encoding = email_charset.QP if name != "utf-8" else email_charset.BASE64
    # None (8bit: no transfer encoding) is what email.charset itself uses; the stubs say int
    cs.body_encoding = _ENCODINGS[cte]  # type: ignore[assignment]
    return cs


def _text(text: str, subtype: str, charset: email_charset.Charset) -> MIMEText:
    """MIMEText with a Charset object (the header and body encodings chosen above), which
    email.mime.text passes on to set_payload; the stubs allow only a charset name."""
    return MIMEText(text, subtype, charset)  # type: ignore[arg-type]


def _header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


def _fmt(addresses: list[Address]) -> str:
    return ", ".join(formataddr(a, charset="utf-8") for a in addresses)


def text_to_html(text: str) -> str:
    """Outlook-style HTML for a plain body: one <p> per paragraph, <br> per line."""
    paragraphs = "".join(
        "<p class=\"MsoNormal\">" + "<br>".join(html.escape(line) for line in block.split("\n")) + "</p>"
        for block in text.split("\n\n")
    )
    return (
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">"
        "<style>p.MsoNormal{margin:0;font-family:Calibri,sans-serif;font-size:11pt}</style></head>"
        f"<body lang=\"NL\"><div class=\"WordSection1\">{paragraphs}</div></body></html>"
    )


def _attachment(data: bytes | str | EmailMessage, maintype: str, subtype: str, filename: str) -> Message:
    if isinstance(data, Message):
        part: Message = MIMEMessage(data)
    elif isinstance(data, str):
        part = _text(data, subtype, _charset("utf-8", "quoted-printable"))
    elif maintype == "application":
        part = MIMEApplication(data, subtype)
    else:
        part = MIMEBase(maintype, subtype)
        part.set_payload(data)
        from email import encoders

        encoders.encode_base64(part)
    if filename.isascii():
        part.add_header("Content-Disposition", "attachment", filename=filename)
    else:
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", filename))
    return part


def build_message(spec: MailSpec, *, message_id: str, when: datetime, rng: random.Random) -> Message:
    roll = rng.random()
    cte = "quoted-printable" if roll < 0.5 else "base64" if roll < 0.7 else "8bit"
    name = "iso-8859-1" if rng.random() < 0.25 and _latin1_safe(spec.body) else "utf-8"
    if spec.html_only:
        body_html = spec.body if spec.body.lstrip().startswith("<") else text_to_html(spec.body)
        body: Message = _text(body_html, "html", _charset("utf-8", cte))
    else:
        body = _text(spec.body, "plain", _charset(name, cte))
        if spec.html:
            alt = MIMEMultipart("alternative")
            alt.attach(body)
            alt.attach(_text(text_to_html(spec.body), "html", _charset("utf-8", "quoted-printable")))
            body = alt
    if spec.attachments:
        msg: Message = MIMEMultipart("mixed")
        msg.attach(body)
        for att in spec.attachments:
            msg.attach(_attachment(att.data, att.maintype, att.subtype, att.filename))
    else:
        msg = body
    # Headers go first in the file, as mail clients write them.
    content_headers = [(k, v) for k, v in msg.items()]
    for key in list(msg.keys()):
        del msg[key]
    msg["From"] = formataddr(spec.sender, charset="utf-8")
    msg["To"] = _fmt(spec.to)
    if spec.cc:
        msg["Cc"] = _fmt(spec.cc)
    msg["Subject"] = _header(spec.subject)  # type: ignore[assignment]  # email takes a Header too
    msg["Date"] = format_datetime(aware(when))
    msg["Message-ID"] = message_id
    mailer = rng.choice(_MAILERS)
    if mailer:
        msg["X-Mailer"] = mailer
    for key, value in content_headers:
        msg[key] = value
    token = message_id.strip("<>").split("@", 1)[0]
    n = 0
    for part in msg.walk():
        if part is not msg and isinstance(part, MIMEBase):
            del part["MIME-Version"]  # only the top level carries it, as clients write it
        if part.get_content_maintype() == "multipart":
            part.set_boundary(f"----=_Part_{token}_{n}")
            n += 1
    return msg


def render(spec: MailSpec, *, message_id: str, when: datetime, rng: random.Random, crlf: bool = False) -> bytes:
    msg = build_message(spec, message_id=message_id, when=when, rng=rng)
    return msg.as_bytes(policy=CRLF_POLICY if crlf else LF_POLICY)


def _latin1_safe(text: str) -> bool:
    try:
        text.encode("iso-8859-1")
    except UnicodeEncodeError:
        return False
    return True
