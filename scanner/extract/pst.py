"""Outlook .pst and .ost archives: every mail inside becomes an item of its own.

Why libpff (``pypff``) and not Debian's libpst ``readpst``: tried on the samples shipped with
pst-extractor (docs/decisions.md, 2026-12-02), pypff reads the .ost files (readpst skipped
most of an Outlook.com .ost's Inbox), reads through a file object without writing a copy of
every mail to disk, and refuses a truncated file with an error where readpst printed "Could
not get root record" and exited 0 with nothing read: a silent empty archive would be taken for
an archive without pupil data.

The handler runs in the extraction sandbox like every other container (same size, time and
memory limits). The archive is opened from the blob's file (a spooled temp file or the local
path), never read into memory; mails are visited one at a time. Each mail's text goes into the
walker under a part prefix of its own (``m<node id>``) and each mail is announced with
:meth:`WalkContext.add_message`; the analysis turns every announced mail into a child item
(:mod:`scanner.pst_items`). Each mail gets a fresh text and member budget: it is an item, and
one long mail must not silence the rest of the archive.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from scanner.extract.errors import ExtractError
from scanner.extract.handler import Blob, WalkContext, sub
from scanner.extract.textual import decode, html_to_text

PR_ATTACH_FILENAME = 0x3704
PR_ATTACH_LONG_FILENAME = 0x3707
PR_ATTACH_METHOD = 0x3705
PR_PST_PASSWORD = 0x67FF
"""The message store's password property: a CRC of the password, set only when the owner
protected the file. The data itself is not encrypted by it, but the owner asked that it not be
opened without the password, so the archive is an ``encrypted`` item error, not read."""
ATTACH_EMBEDDED_MESSAGE = 5

ROOT_NAMES = frozenset({
    "top of personal folders", "top of outlook data file", "bovenste map van persoonlijke mappen",
    "bovenste map van outlook-gegevensbestand", "root - mailbox", "ipm_subtree",
})
"""Internal top folders Outlook does not show: left out of the folder path inside the archive."""


def message_prefix(identifier: int) -> str:
    """The part prefix of one mail of the archive (its descriptor node id)."""
    return f"m{identifier}"


def handle_pst(walker: WalkContext, blob: Blob, name: str, path: str, depth: int, chash: str) -> None:
    import pypff

    if walker.too_deep(depth + 1, path or "body"):
        return
    with blob.open() as stream:
        archive = pypff.file()
        try:
            archive.open_file_object(stream)
        except OSError:
            raise ExtractError("corrupt") from None
        try:
            if _password_protected(archive):
                raise ExtractError("encrypted")
            # Only an archive that is the item itself has mails that are items; one inside a
            # zip or attached to a mail is read like any container, its text the item's.
            top = not path
            if top:
                # until the walk ends, the listing is incomplete (a timeout leaves it so)
                walker.listing_done(False)
            broken: list[str] = []
            for folder_path, message in _messages(walker, archive.get_root_folder(), path, broken):
                if not _message(walker, message, folder_path, path, depth, announce=top):
                    broken.append("message")
            if top:
                walker.listing_done(not broken)
        finally:
            archive.close()


CONTENT_TYPE_PST = ord("p")
"""libpff's content type of a .pst (an .ost is ``o``: its password property is 0xFFFFFFFF and
means nothing, an offline copy of a mailbox has no password)."""


def _password_protected(archive: Any) -> bool:
    try:
        if archive.content_type != CONTENT_TYPE_PST:
            return False
        store = archive.get_message_store()
    except OSError:
        return False
    if store is None:
        return False
    for record_set in _record_sets(store):
        entry = _entry(record_set, PR_PST_PASSWORD)
        if entry is not None and entry.data and int.from_bytes(entry.data[:4], "little"):
            return True
    return False


def _record_sets(item: Any) -> Iterator[Any]:
    try:
        count = item.number_of_record_sets
    except OSError:
        return
    for index in range(count):
        try:
            yield item.get_record_set(index)
        except OSError:
            continue


def _entry(record_set: Any, entry_type: int) -> Any:
    try:
        count = record_set.number_of_entries
    except OSError:
        return None
    for index in range(count):
        try:
            entry = record_set.get_entry(index)
            if entry.entry_type == entry_type:
                return entry
        except OSError:
            continue
    return None


def _messages(walker: WalkContext, folder: Any, path: str, broken: list[str],
              inner: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """(folder path inside the archive, message) for every message, depth first. A folder
    whose listing fails is an error against it (and noted in ``broken``); the others are
    still read."""
    walker.tick()
    where = sub(path, "/".join(inner)) if inner else path or "body"

    def damaged() -> None:
        walker.error("corrupt", where)
        broken.append(where)

    try:
        count = folder.number_of_sub_messages
    except OSError:
        damaged()
        count = 0
    for index in range(count):
        try:
            message = folder.get_sub_message(index)
        except OSError:
            damaged()
            continue
        yield "/".join(inner), message
    try:
        folders = folder.number_of_sub_folders
    except OSError:
        damaged()
        folders = 0
    for index in range(folders):
        try:
            child = folder.get_sub_folder(index)
            name = (child.name or "").strip()
        except OSError:
            damaged()
            continue
        top = not inner and name.lower() in ROOT_NAMES
        shown = inner if top else (*inner, name.replace("/", "_") or "map")
        yield from _messages(walker, child, path, broken, shown)


def _fresh_budget(walker: WalkContext) -> None:
    """Each mail is an item: it gets the text budget of an item (the archive's total is
    bounded by the sandbox's memory cap and time limit)."""
    walker.text_left = walker.limits.max_text_chars
    walker.exhausted = False


def _message(walker: WalkContext, message: Any, folder_path: str, path: str, depth: int, *,
             announce: bool) -> bool:
    """Visit one mail; False when it could not be read (an error is recorded against it).
    ``announce``: the mail is an item of its own (its own text budget, announced to the walker)."""
    walker.tick()
    if announce:
        _fresh_budget(walker)
    try:
        identifier = int(message.identifier)
    except (OSError, TypeError, ValueError):
        return False
    prefix = sub(path, message_prefix(identifier))
    digest = hashlib.sha256()
    meta: dict[str, Any] = {"key": str(identifier), "folder": folder_path, "prefix": prefix,
                            "subject": "", "date": None, "size": 0}
    try:
        meta["subject"] = (message.subject or "").strip()
        when = message.delivery_time or message.client_submit_time or message.creation_time
        if isinstance(when, datetime):
            meta["date"] = (when if when.tzinfo else when.replace(tzinfo=UTC)).isoformat()
        body = _body(message)
    except OSError:
        walker.error("corrupt", prefix)
        if announce:
            walker.add_message(meta)
        return False
    size = 0
    if body is not None:
        raw, is_html = body
        digest.update(raw)
        size += len(raw)
        text, _ = decode(raw)
        walker.add_text(prefix, html_to_text(text) if is_html else text)
    digest.update(meta["subject"].encode("utf-8", "replace"))
    size += _attachments(walker, message, prefix, depth, digest)
    meta["size"] = size
    meta["hash"] = digest.hexdigest()
    if announce:
        walker.add_message(meta)
    return True


def _body(message: Any) -> tuple[bytes, bool] | None:
    plain = message.plain_text_body
    if plain:
        return bytes(plain), False
    html = message.html_body
    if html:
        return bytes(html), True
    rtf = message.rtf_body
    if rtf:
        from striprtf.striprtf import rtf_to_text

        text = rtf_to_text(bytes(rtf).decode("latin-1"), encoding="cp1252", errors="replace")  # type: ignore[no-untyped-call]
        return str(text).encode("utf-8"), False
    return None


def _attachments(walker: WalkContext, message: Any, prefix: str, depth: int, digest: Any) -> int:
    """Visit every attachment of a mail as a child (nested archives and mails are opened by
    the walker like any attachment); returns the bytes read."""
    total = 0
    try:
        count = message.number_of_attachments
    except OSError:
        walker.error("corrupt", prefix)
        return 0
    for index in range(count):
        walker.tick()
        fallback = f"bijlage {index + 1}"
        try:
            attachment = message.get_attachment(index)
            name, method = _attachment_name(attachment)
            if method == ATTACH_EMBEDDED_MESSAGE:
                walker.error("unsupported", sub(prefix, name or fallback))
                continue
            size = int(attachment.size or 0)
            if size > walker.limits.max_item_bytes:
                walker.error("too_large", sub(prefix, name or fallback))
                continue
            data = attachment.read_buffer(size) if size else b""
        except OSError:
            walker.error("corrupt", sub(prefix, fallback))
            continue
        digest.update(data)
        total += len(data)
        if data:
            walker.child(data, name, prefix, depth + 1, fallback)
    return total


def _attachment_name(attachment: Any) -> tuple[str | None, int | None]:
    name: str | None = None
    method: int | None = None
    for record_set in _record_sets(attachment):
        for entry_type in (PR_ATTACH_LONG_FILENAME, PR_ATTACH_FILENAME):
            entry = _entry(record_set, entry_type)
            if entry is not None and entry.data and name is None:
                name = bytes(entry.data).decode("utf-16-le", "replace").rstrip("\x00") or None
        entry = _entry(record_set, PR_ATTACH_METHOD)
        if entry is not None and entry.data:
            method = int.from_bytes(bytes(entry.data)[:4], "little")
    return name, method
