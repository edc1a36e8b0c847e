"""Which handler extracts which format: import paths, resolved on first use.

Like :mod:`connectors.registry`: the in-process fast path for plain mail loads no binary
parser (pypdf, py7zr, extract_msg ...), and a format's module is imported only when an item
of that format is met. Keys are the formats :func:`scanner.extract.sniff.sniff` returns.
"""

from __future__ import annotations

import importlib
from functools import cache

from scanner.extract.handler import Handler

FORMATS: dict[str, str] = {
    "mail": "scanner.extract.mime:handle_mail",
    "text": "scanner.extract.textual:handle_text",
    "csv": "scanner.extract.textual:handle_csv",
    "html": "scanner.extract.textual:handle_html",
    "rtf": "scanner.extract.textual:handle_rtf",
    "pdf": "scanner.extract.pdf:handle_pdf",
    "zip": "scanner.extract.archives:handle_zip",
    "7z": "scanner.extract.archives:handle_7z",
    "tar": "scanner.extract.archives:handle_tar",
    "gzip": "scanner.extract.archives:handle_gzip",
    "bz2": "scanner.extract.archives:handle_bz2",
    "xz": "scanner.extract.archives:handle_xz",
    "ole": "scanner.extract.outlook:handle_ole",
    "tnef": "scanner.extract.outlook:handle_tnef",
    "pst": "scanner.extract.pst:handle_pst",
    "image": "scanner.extract.ocr:handle_image",
}


@cache
def handler_for(fmt: str) -> Handler | None:
    """The handler for ``fmt``, imported on first use; None for a format we do not read."""
    target = FORMATS.get(fmt)
    if target is None:
        return None
    module_name, _, attr = target.partition(":")
    handler: Handler = getattr(importlib.import_module(module_name), attr)
    return handler
