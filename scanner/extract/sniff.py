"""Decide what a blob is: magic bytes first, then the media type, then the extension.

Magic bytes come first because names lie (a ``.docx`` that is a JPEG, an ``.xls`` that is an
HTML export) and a parser chosen by extension is the easiest way to feed a hostile file to the
wrong library. The extension still matters for the weak cases magic cannot settle (CSV versus
plain text, an ``.eml`` file) and to report a mismatch between name and content.
"""

from __future__ import annotations

import posixpath

HEAD_BYTES = 8192

_EXT_FORMAT = {
    "eml": "mail", "mht": "mail", "mhtml": "mail",
    "csv": "csv", "tsv": "csv",
    "htm": "html", "html": "html", "xhtml": "html",
    "txt": "text", "text": "text", "log": "text", "md": "text", "json": "text", "xml": "text",
    "ics": "text", "vcf": "text", "ini": "text",
    "rtf": "rtf",
}

# The container family an extension promises; used only to report a mismatch.
_EXT_FAMILY = {
    **dict.fromkeys(("docx", "docm", "dotx", "xlsx", "xlsm", "xltx", "pptx", "pptm", "odt", "ods", "odp",
                     "zip"), "zip"),
    **dict.fromkeys(("doc", "xls", "ppt", "msg"), "ole"),
    "pst": "pst", "ost": "pst",
    "pdf": "pdf", "7z": "7z", "rtf": "rtf", "gz": "gzip", "tgz": "gzip", "tar": "tar",
    **dict.fromkeys(("jpg", "jpeg", "png", "gif", "tif", "tiff", "bmp", "webp"), "image"),
}
_STRONG = {"zip", "ole", "pdf", "7z", "gzip", "bz2", "xz", "tar", "image", "tnef", "pst"}
# OOXML files encrypted by Office are OLE containers: .docx being OLE is not a mismatch.
_COMPATIBLE = {("zip", "ole")}


def extension(name: str) -> str:
    base = posixpath.basename(name.replace("\\", "/")).lower()
    if base.endswith(".tar.gz"):
        return "tgz"
    return base.rsplit(".", 1)[-1] if "." in base else ""


def sniff(head: bytes, name: str = "", media_type: str | None = None) -> str:
    """Return a coarse format key for a blob from its first bytes.

    Keys: ``empty zip ole pdf 7z gzip bz2 xz tar rtf tnef image html csv text mail binary``.
    ``zip`` and ``ole`` are refined later by looking inside (OOXML, ODF, MSG, XLS).
    """
    if not head:
        return "empty"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh") and len(head) > 4 and head[3:4].isdigit():
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if len(head) > 262 and head[257:262] == b"ustar":
        return "tar"
    if head.startswith(b"\x78\x9f\x3e\x22"):
        return "tnef"
    if head.startswith(b"!BDN"):  # [MS-PST] 2.2.2.6 HEADER dwMagic: .pst and .ost
        return "pst"
    if head.lstrip()[:5] == b"{\\rtf":
        return "rtf"
    if (head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*"))
            or (head.startswith(b"RIFF") and head[8:12] == b"WEBP")
            or (head.startswith(b"BM") and extension(name) == "bmp")):
        return "image"
    if not _looks_textual(head):
        return "binary"
    ext = extension(name)
    mt = (media_type or "").lower().split(";")[0].strip()
    if ext in ("eml", "mht", "mhtml") or mt == "message/rfc822":
        return "mail"
    if ext in _EXT_FORMAT and _EXT_FORMAT[ext] in ("csv", "html"):
        return _EXT_FORMAT[ext]
    if mt == "text/html" or mt == "text/csv":
        return mt.split("/")[1]
    lowered = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered[:512]:
        return "html"
    return "text"


def mismatch(fmt: str, name: str) -> bool:
    """True when strong magic contradicts the family the extension promises."""
    family = _EXT_FAMILY.get(extension(name))
    if family is None or fmt not in _STRONG or family == fmt:
        return False
    return (family, fmt) not in _COMPATIBLE


def _looks_textual(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-16 with BOM
    sample = head[:4096]
    if b"\x00" in sample:
        return False
    control = len(sample) - len(sample.translate(None, _CONTROL))
    return control <= len(sample) * 0.05


_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
"""Control bytes that plain text does not hold (tab, newlines, form feed and escape it may):
counted by deleting them in C (``bytes.translate``), not byte by byte in Python (a tenth of
the in-process walk of a mail)."""
