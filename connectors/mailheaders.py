"""Reading just enough of a stored message to describe it, without reading its body.

Discovery must stay cheap and memory-flat however large a message is, so connectors that hold
raw RFC 822 files (Maildir, mbox, .eml folders) read only the header block (bounded) and parse
the three fields an item needs: date, subject and Message-ID.
"""

from __future__ import annotations

import email.header
import email.parser
import email.policy
import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

MAX_HEADER_BYTES = 64 * 1024
_PARSER = email.parser.BytesHeaderParser(policy=email.policy.compat32)


@dataclass(frozen=True, slots=True)
class HeaderSummary:
    date: datetime | None
    subject: str
    message_id: str | None


def read_header_block(stream: BinaryIO, limit: int = MAX_HEADER_BYTES) -> bytes:
    """Read lines up to the first empty line (end of headers) or ``limit`` bytes."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        line = stream.readline(limit - total)
        if not line:
            break
        chunks.append(line)
        total += len(line)
        if line in (b"\n", b"\r\n"):
            break
    return b"".join(chunks)


def summarise_headers(block: bytes) -> HeaderSummary:
    """Parse date, subject and Message-ID from a header block; tolerant of broken headers."""
    try:
        message = _PARSER.parsebytes(block)
    except Exception:  # noqa: BLE001 - a malformed header block is described as unknown
        return HeaderSummary(None, "", None)
    return HeaderSummary(
        date=parse_date(message.get("Date")),
        subject=decode_subject(message.get("Subject")),
        message_id=(str(message.get("Message-ID") or "").strip() or None),
    )


def parse_date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def decode_subject(value: object) -> str:
    if value is None:
        return ""
    try:
        header = email.header.make_header(email.header.decode_header(str(value)))
        return " ".join(str(header).split())[:500]
    except Exception:  # noqa: BLE001 - undecodable subject: keep the raw text
        return " ".join(str(value).split())[:500]

