"""Mails inside a mail archive (.pst/.ost) as items of their own.

Why here and not in a connector: the archive is read in the extraction sandbox (a hostile or
4 GB file must meet the same size, time and memory limits as a zip), and connectors do not
import extraction. So the share or folder connector lists the archive as one file; the worker
that analyses it gets, from extraction, each mail's metadata and text under a part prefix, and
this module splits that into one child :class:`ItemRef` per mail with its own parts and errors.

A child's key is ``<archive key>//<node id>`` (:func:`scanner.core.model.contained_key`): the
node id of a mail does not change while the mail is in the archive, so keys are stable across
runs. Its folder is the archive's folder, the archive's name and the folder inside it
(``Gedeeld/Archief/archief 2012.pst/Postvak IN/Zorg``), its owner the archive's owner, its
change key a hash of its bodies and attachments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scanner.core.model import (
    MAIL_ARCHIVE_LABEL,
    ItemError,
    ItemKind,
    ItemRef,
    TextPart,
    contained_key,
)

__all__ = ["MAIL_ARCHIVE_LABEL", "ContainedMail", "split_archive"]


@dataclass
class ContainedMail:
    """One mail of an archive: its ref, its text parts and its errors (part names relative to
    the mail, as if it were a mail of its own: ``body``, ``verslag.pdf``)."""

    ref: ItemRef
    content_hash: str | None
    parts: list[TextPart] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)


def split_archive(container: ItemRef, parts: Sequence[TextPart], errors: Sequence[ItemError],
                  messages: Sequence[dict[str, Any]]) -> tuple[list[ContainedMail], list[ItemError]]:
    """The archive's mails, and the errors that belong to the archive itself (a damaged
    folder, the time limit), from what extraction returned for the archive."""
    mails: list[ContainedMail] = []
    by_prefix: dict[str, ContainedMail] = {}
    for meta in messages:
        prefix = str(meta.get("prefix") or "")
        key = str(meta.get("key") or "")
        if not prefix or not key or prefix in by_prefix:
            continue
        mail = ContainedMail(ref=_child_ref(container, meta), content_hash=_str(meta.get("hash")))
        by_prefix[prefix] = mail
        mails.append(mail)
    for part in parts:
        owner = _owner(part.part, by_prefix)
        if owner is not None:
            mail, rest = owner
            mail.parts.append(TextPart(part=rest, text=part.text, location=part.location,
                                       context=part.context, content_hash=part.content_hash))
    own: list[ItemError] = []
    for error in errors:
        owner = _owner(error.part, by_prefix)
        if owner is None:
            own.append(error)
        else:
            mail, rest = owner
            mail.errors.append(ItemError(code=error.code, message=error.message, part=rest))
    return mails, own


def _owner(part: str, by_prefix: dict[str, ContainedMail]) -> tuple[ContainedMail, str] | None:
    head, _, rest = part.partition("/")
    mail = by_prefix.get(head)
    if mail is None:
        return None
    return mail, rest or "body"


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _child_ref(container: ItemRef, meta: dict[str, Any]) -> ItemRef:
    inner = str(meta.get("folder") or "")
    folder = "/".join(p for p in (container.folder, container.title, inner) if p)
    date = container.date
    raw_date = meta.get("date")
    if isinstance(raw_date, str):
        try:
            date = datetime.fromisoformat(raw_date)
        except ValueError:
            pass
    size = meta.get("size")
    return ItemRef(
        source=container.source, item_key=contained_key(container.item_key, str(meta["key"])),
        kind=ItemKind.MAIL, owner=container.owner, folder=folder, title=str(meta.get("subject") or ""),
        date=date, size=size if isinstance(size, int) else None, change_key=_str(meta.get("hash")),
        link=container.link, unit_key=container.unit_key,
    )
