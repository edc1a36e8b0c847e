"""Helpers for the retention tests (a uniquely named module: every test folder has its own
conftest, so ``from conftest import`` would be ambiguous in a full run)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from scanner.retention import ItemFacts

AMS = ZoneInfo("Europe/Amsterdam")


def at(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> datetime:
    """A moment in Amsterdam time (noon unless given)."""
    return datetime(y, m, d, hh, mm, tzinfo=AMS)


def facts(
    kind: str = "mail",
    folder: str = "Inbox",
    when: datetime | None = None,
    categories: tuple[str, ...] = ("zorg",),
    entities: tuple[str, ...] = ("PERSON",),
    **kw: object,
) -> ItemFacts:
    return ItemFacts(
        kind=kind,
        source=str(kw.pop("source", "mail-1" if kind == "mail" else "share-1")),
        source_kind=str(kw.pop("source_kind", "maildir" if kind == "mail" else "smb")),
        folder=folder,
        date=when or at(2025, 3, 3),
        categories=categories,
        entities=entities,
        **kw,  # type: ignore[arg-type]
    )
