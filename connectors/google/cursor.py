"""The stored cursor of a Google unit: one named token in a small JSON object.

Gmail keeps a ``historyId`` and Drive a ``changes`` page token; both are stored as
``{"<field>": "<token>"}`` so a cursor says what it is, and a cursor of the wrong kind (or
one an older release wrote) reads as "no cursor": a full listing, never a crash.
"""

from __future__ import annotations

import json
from collections.abc import Callable


def encode(field: str, token: str) -> str:
    return json.dumps({field: token}, separators=(",", ":"))


def decode(cursor: str | None, field: str, valid: Callable[[str], bool] = bool) -> str | None:
    """The token stored under ``field``, or ``None`` when there is none or it is not ``valid``."""
    if not cursor:
        return None
    try:
        data = json.loads(cursor)
    except ValueError:
        return None
    value = data.get(field) if isinstance(data, dict) else None
    return value if isinstance(value, str) and value and valid(value) else None
