"""Test helper: open every demo item with the library a real extractor would use, and return
its text. Opening is itself the check that each attachment is well formed."""

from __future__ import annotations

import csv
import email
import io
import zipfile
from email import policy
from email.message import EmailMessage
from pathlib import Path

import docx
import openpyxl
import pypdf
from bs4 import BeautifulSoup

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def file_text(name: str, data: bytes | str) -> str:
    if isinstance(data, str):  # the email package decodes text/* attachments
        data = data.encode("utf-8")
    lower = name.lower()
    if lower.endswith(".docx"):
        doc = docx.Document(io.BytesIO(data))
        cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
        return "\n".join([p.text for p in doc.paragraphs] + cells)
    if lower.endswith(".xlsx"):
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(
            " ".join("" if v is None else str(v) for v in row)
            for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
        )
    if lower.endswith(".pdf"):
        return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    if lower.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            assert zf.testzip() is None
            return "\n".join(file_text(n, zf.read(n)) for n in zf.namelist())
    if lower.endswith(".csv"):
        text = data.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text), delimiter=";" if ";" in text.splitlines()[0] else ","))
        assert len(rows) > 1
        return "\n".join(" ".join(r) for r in rows)
    if lower.endswith((".html", ".htm")):
        return BeautifulSoup(data, "html.parser").get_text(" ")
    if lower.endswith(".txt"):
        return data.decode("utf-8")
    raise AssertionError(f"unexpected file type: {name}")


def message_text(msg: EmailMessage) -> tuple[str, int]:
    """All text of a parsed message including (nested) attachments; also counts attachments."""
    texts: list[str] = [str(msg[h]) for h in ("From", "To", "Cc", "Subject") if msg[h]]
    attachments = 0
    for part in msg.iter_parts() if msg.is_multipart() else [msg]:
        ctype = part.get_content_type()
        if part.is_multipart():
            text, n = message_text(part)  # type: ignore[arg-type]
            texts.append(text)
            attachments += n
        elif ctype == "message/rfc822":
            attachments += 1
            inner = part.get_content()
            text, n = message_text(inner)
            texts.append(text)
            attachments += n
        elif part.get_content_disposition() == "attachment":
            attachments += 1
            texts.append(file_text(part.get_filename(), part.get_content()))
        elif ctype == "text/html":
            texts.append(BeautifulSoup(part.get_content(), "html.parser").get_text(" "))
        elif ctype == "text/plain":
            texts.append(part.get_content())
        else:
            raise AssertionError(f"unexpected part {ctype}")
    return "\n".join(texts), attachments


def parse(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


def iter_mails(root: Path, sources: list[dict]):
    """Yield (key, source, raw bytes) for every mail of the demo sources."""
    import mailbox

    for src in sources:
        path = Path(src["path"])
        if src["kind"] == "maildir":
            for file in sorted(path.rglob("*")):
                if file.is_file() and file.parent.name in ("cur", "new"):
                    yield file.relative_to(root).as_posix(), src, file.read_bytes()
        elif src["kind"] == "mbox":
            box = mailbox.mbox(path, create=False)
            try:
                for index, key in enumerate(box.keys()):
                    yield f"{path.relative_to(root).as_posix()}#{index}", src, box.get_bytes(key)
            finally:
                box.close()
        elif src["kind"] == "eml":
            for file in sorted(path.rglob("*.eml")):
                yield file.relative_to(root).as_posix(), src, file.read_bytes()
