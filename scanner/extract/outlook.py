"""Microsoft compound files (OLE): Outlook .msg, legacy .xls, encrypted Office documents;
and TNEF (winmail.dat).

One OLE sniff decides what a compound file is by its stream names, so each library only ever
sees its own format: extract-msg for .msg (body, subject, attachments, embedded .msg re-exported
to bytes and visited recursively like any attachment), xlrd for .xls. An OOXML document saved
with a password is an OLE file holding ``EncryptionInfo`` and ``EncryptedPackage`` streams; it is
reported as ``encrypted`` without trying passwords. tnefparse reads winmail.dat.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from scanner.extract.errors import ExtractError
from scanner.extract.handler import Blob, WalkContext, here, sub
from scanner.extract.tables import emit_table
from scanner.extract.textual import decode, html_to_text

for _name in ("extract_msg", "olefile", "tnefparse", "xlrd"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


def _ole_streams(blob: Blob) -> set[str]:
    import olefile

    try:
        source = blob.data if blob.data is not None else str(blob.path)
        with olefile.OleFileIO(source) as ole:
            return {"/".join(entry) for entry in ole.listdir(streams=True, storages=True)}
    except Exception as exc:
        raise ExtractError("corrupt") from exc


def handle_ole(walker: WalkContext, blob: Blob, name: str, path: str, depth: int, chash: str) -> None:
    streams = _ole_streams(blob)
    top = {s.split("/", 1)[0] for s in streams}
    if "EncryptedPackage" in top and "EncryptionInfo" in top:
        raise ExtractError("encrypted")
    if any(s.startswith("__substg1.0_") for s in top):
        _handle_msg(walker, blob, path, depth, chash)
        return
    if "Workbook" in top or "Book" in top:
        _handle_xls(walker, blob, path, chash)
        return
    raise ExtractError("unsupported")  # legacy .doc/.ppt and other compound files


def _handle_msg(walker: WalkContext, blob: Blob, path: str, depth: int, chash: str) -> None:
    import extract_msg
    from extract_msg.enums import AttachmentType

    part = here(path)
    try:
        message = extract_msg.openMsg(blob.read(), strict=False, delayAttachments=False)
    except Exception as exc:
        raise ExtractError("corrupt") from exc
    try:
        subject = message.subject if hasattr(message, "subject") else None
        if subject:
            walker.add_text(sub(path, "subject") if path else "subject", str(subject), None, None, chash)
        body = _attr(message, "body")
        if not body:
            html = _attr(message, "htmlBody")
            if html:
                body = html_to_text(html if isinstance(html, str) else decode(html)[0])
        if isinstance(body, bytes):
            body = decode(body)[0]
        if body:
            walker.add_text(part, str(body), None, None, chash)
        used: dict[str, int] = {}
        for index, attachment in enumerate(_safe(lambda: message.attachments) or [], 1):
            walker.tick()
            if walker.exhausted:
                return
            filename = (_attr(attachment, "longFilename") or _attr(attachment, "shortFilename")
                        or f"bijlage-{index}")
            count = used.get(filename, 0)
            used[filename] = count + 1
            if count:
                filename = f"{filename} ({count + 1})"
            kind = _attr(attachment, "type")
            if kind == AttachmentType.MSG:
                inner = _attr(attachment, "data")
                raw = _safe(functools.partial(_call, inner, "exportBytes")) if inner is not None else None
                if not raw:
                    walker.error("corrupt", sub(path, filename))
                    continue
                name = filename if filename.lower().endswith(".msg") else filename + ".msg"
                walker.child(raw, name, path, depth + 1, f"bijlage-{index}.msg")
            elif kind == AttachmentType.DATA:
                data = _attr(attachment, "data")
                if isinstance(data, bytes):
                    walker.child(data, filename, path, depth + 1, f"bijlage-{index}")
    finally:
        _safe(message.close)


def _attr(obj: Any, name: str) -> Any:
    """``_safe`` for one attribute; a function, so no closure is bound to a loop variable."""
    return _safe(lambda: getattr(obj, name))


def _call(obj: Any, name: str) -> Any:
    return getattr(obj, name)()


def _safe(getter: Callable[[], Any]) -> Any:
    """extract-msg computes properties lazily and may raise on broken streams."""
    try:
        return getter()
    except (ExtractError, MemoryError):
        raise
    except Exception:  # noqa: BLE001
        return None


def _handle_xls(walker: WalkContext, blob: Blob, path: str, chash: str) -> None:
    import xlrd

    part = here(path)
    try:
        book = xlrd.open_workbook(file_contents=blob.read(), on_demand=True, logfile=_NullLog())
    except xlrd.biffh.XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise ExtractError("encrypted") from exc
        raise ExtractError("corrupt") from exc
    try:
        for index in range(book.nsheets):
            walker.tick()
            sheet = book.get_sheet(index)
            rows = ((r + 1, sheet.row_values(r)) for r in range(sheet.nrows))
            emit_table(walker, part, rows, sheet=sheet.name, content_hash=chash)
            book.unload_sheet(index)
            if walker.exhausted:
                return
    finally:
        book.release_resources()


class _NullLog:
    def write(self, *_: object) -> None:
        return None


def handle_tnef(walker: WalkContext, blob: Blob, name: str, path: str, depth: int, chash: str) -> None:
    from tnefparse import TNEF

    part = here(path)
    try:
        tnef = TNEF(blob.read(), do_checksum=False)
    except Exception as exc:
        raise ExtractError("corrupt") from exc
    body = tnef.body
    if not body and tnef.htmlbody:
        html = tnef.htmlbody
        body = html_to_text(html if isinstance(html, str) else decode(html)[0])
    if isinstance(body, bytes):
        body = decode(body)[0]
    if body:
        walker.add_text(part, body, None, None, chash)
    for index, attachment in enumerate(tnef.attachments, 1):
        walker.tick()
        if walker.exhausted:
            return
        try:
            filename = attachment.long_filename() or attachment.name
        except Exception:  # noqa: BLE001
            filename = None
        data = attachment.data if isinstance(attachment.data, bytes) else b""
        walker.child(data, filename, path, depth + 1, f"bijlage-{index}")
