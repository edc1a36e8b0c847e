"""The quarantine folder of file sources: where a teacher's "Verwijderen" puts a file.

Files are never unlinked by schoonschip: a removal moves the file into one folder at the top of
the same share or folder tree, keeping its relative path below it, so IT (or the teacher) can put
it back by moving it up again, and the school's own backup and retention of that folder apply.
The folder and its settings live here so the local folder and SMB connectors share one name,
one rule for valid names and one rule for a name that is taken; each connector excludes the
folder from its units and walk, so a quarantined file is never crawled (the next scan closes
the item).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import Field

DEFAULT_QUARANTINE = "_schoonschip_quarantaine"
"""Leading underscore: sorts first in Explorer and says it is no teacher's folder."""

_BAD_CHARS = set('\\/:*?"<>|')


def quarantine_field() -> Any:
    """The ``quarantine`` setting of a file source (one folder name, created on first use)."""
    return Field(
        default=DEFAULT_QUARANTINE,
        description=(
            "Folder at the top of the share/folder where 'Verwijderen' moves files, keeping their "
            "relative path (never a hard delete). Never crawled. Needs write access."
        ),
    )


def check_quarantine_name(value: str) -> str:
    """One plain folder name: no path separators, no '.'/'..', nothing Windows refuses."""
    value = value.strip()
    if not value or value in {".", ".."} or any(c in _BAD_CHARS for c in value):
        raise ValueError(
            "quarantine is één mapnaam zonder schuine strepen, bijv. "
            f"'{DEFAULT_QUARANTINE}' / quarantine is one folder name without slashes"
        )
    return value


def free_name(name: str, taken: Callable[[str], bool]) -> str:
    """``name`` or, when ``taken(name)`` says it exists, ``stem (2).ext``, ``stem (3).ext``...

    A file of the same name can already be in quarantine (moved last year, then a new one
    made); a removal never overwrites it."""
    if not taken(name):
        return name
    stem, dot, suffix = name.rpartition(".")
    if not stem:  # no extension (or a dotfile): number the whole name
        stem, dot, suffix = name, "", ""
    number = 2
    while True:
        candidate = f"{stem} ({number}){dot}{suffix}"
        if not taken(candidate):
            return candidate
        number += 1


def is_inside(relative: str, quarantine: str) -> bool:
    """Whether a path relative to the tree's top lies in the quarantine folder."""
    first = relative.replace("\\", "/").split("/", 1)[0]
    return first.lower() == quarantine.lower()


NOT_IN_QUARANTINE = "niet meer in de quarantainemap / no longer in the quarantine folder"
"""A restore that finds nothing to put back (emptied, moved on, or numbered there)."""
PATH_TAKEN = "er staat weer een bestand op die plek / a file has that path again"
"""A restore never overwrites what has the item's path again."""
