"""Logging set-up: plain or JSON lines on stderr, never personal data.

The code logs source names, counts, codes and exception class names only; messages from
libraries that might echo content (pdfminer-style parser warnings) are kept at WARNING so
their chatter about a file's insides does not reach the log. Every line passes through
:func:`scanner.core.privacy.scrub` as a last net: a library that quotes a path with a BSN in
a folder name does not put the number in the log.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from scanner.core.privacy import scrub

NOISY_LIBRARIES = ("pypdf", "exchangelib", "msal", "urllib3", "smbprotocol", "spnego", "presidio-analyzer",
                   "presidio_analyzer", "extract_msg", "py7zr", "fontTools", "fpdf", "tnefparse",
                   "imapclient", "apscheduler.executors", "distributed", "charset_normalizer", "alembic", "smbclient")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        if record.exc_info and record.exc_info[0] is not None:
            payload["exception"] = record.exc_info[0].__name__
        return json.dumps(payload, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """One line per record; tracebacks are reduced to the exception class name, because a
    traceback's locals and messages can quote content from a hostile file."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging API name
        return scrub(super().formatMessage(record))

    def formatException(self, ei) -> str:  # noqa: N802 - logging API name
        return f"  ({ei[0].__name__})" if ei and ei[0] else ""


def configure_logging(level: int = logging.INFO, json_logs: bool = False, stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json_logs else PlainFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_schoonschip", False):
            root.removeHandler(existing)
    handler._schoonschip = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
