"""One guard for every cell schoonschip writes into a CSV or XLSX file.

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=HYPERLINK(...)``, ``@SUM(...)``), and a leading tab or carriage return hides such a start
from a naive check (CSV injection, OWASP). Folder names, owners and department names come
from mailboxes, shares and configuration, so any of them can start that way. Every CSV and
XLSX writer (the FG report, the IT export) passes its text cells through :func:`cell_safe`,
which puts a single quote in front: the spreadsheet then shows the text as text. Plain
numbers (``-3``, ``+5``, ``-1,5%``) are left alone, so counts and differences stay numbers.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?%?")


def cell_safe(value: Any) -> Any:
    """``value`` as it may be written into a spreadsheet cell (only text is changed)."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value) or value == "-":
        return value
    return "'" + value


def row_safe(values: list[Any]) -> list[Any]:
    """A whole row through :func:`cell_safe`."""
    return [cell_safe(v) for v in values]
