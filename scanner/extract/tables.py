"""Turn rows of a sheet or table into text a detector can use.

A BSN in a cell means little on its own; the column header ("BSN", "Burgerservicenummer")
is what makes it a finding. So tables are emitted as chunks of rows: each chunk is one
:class:`TextPart` whose text starts with the header line, followed by one tab-separated line
per row, and whose context carries the headers and the sheet row number of every line:

    context = {"column_headers": ["Naam", "BSN"], "sheet": "Klas 3B", "header_row": 1,
               "row_numbers": [2, 3, ...]}     # line i after the header is row row_numbers[i]

Chunking keeps the number of parts small (not one per cell) while a location such as
"blad Klas 3B, rij 2-201" still points the teacher to the right place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from scanner.extract.handler import WalkContext

CHUNK_ROWS = 200
MAX_COLUMNS = 512


def cell_text(value: Any) -> str:
    """Render one cell; dates and numbers as their plain string, newlines flattened."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)  # 123456782.0 from a spreadsheet is the BSN 123456782
    text = str(value)
    if "\n" in text or "\t" in text or "\r" in text:
        text = " ".join(text.split())
    return text.strip()


def emit_table(walker: WalkContext, part: str, rows: Iterable[tuple[int, Sequence[Any]]],
               *, sheet: str | None, content_hash: str | None, unit: str = "rij",
               label: str | None = None) -> None:
    """Emit ``rows`` (row number, cell values) as header-aware chunks of text.

    ``sheet`` names a spreadsheet sheet (location "blad <sheet>, rij 2-201"); ``label``
    replaces the "blad ..." prefix for tables inside documents ("tabel 2, rij 1-5")."""
    prefix = label if label is not None else (f"blad {sheet}" if sheet is not None else None)
    limits = walker.limits
    header: list[str] | None = None
    header_row = 0
    lines: list[str] = []
    numbers: list[int] = []
    empty_run = 0
    seen = 0

    def flush() -> bool:
        if not lines:
            return True
        header_line = "\t".join(header or [])
        where = f"{unit} {numbers[0]}-{numbers[-1]}" if len(numbers) > 1 else f"{unit} {numbers[0]}"
        location = f"{prefix}, {where}" if prefix is not None else where
        context: dict[str, Any] = {"column_headers": list(header or []), "header_row": header_row,
                                   "row_numbers": list(numbers)}
        if sheet is not None:
            context["sheet"] = sheet
        text = header_line + "\n" + "\n".join(lines) if header_line else "\n".join(lines)
        ok = walker.add_text(part, text, location, context, content_hash)
        lines.clear()
        numbers.clear()
        return ok

    for number, values in rows:
        seen += 1
        if seen > limits.max_sheet_rows:
            walker.error("sheet_truncated", part, f"max {limits.max_sheet_rows}")
            break
        cells = [cell_text(v) for v in list(values)[:MAX_COLUMNS]]
        while cells and not cells[-1]:
            cells.pop()
        if seen % 5000 == 0:
            walker.tick()
        if not cells:
            empty_run += 1
            if empty_run > limits.max_empty_rows:
                walker.error("sheet_truncated", part, f"max {limits.max_empty_rows}")
                break
            continue
        empty_run = 0
        if header is None:
            header, header_row = cells, number
            continue
        lines.append("\t".join(cells))
        numbers.append(number)
        if len(lines) >= CHUNK_ROWS:
            walker.tick()
            if not flush():
                return
    if header is not None and not lines and header_row and not numbers:
        # a table with only a header line still says something ("BSN" column, no rows)
        walker.add_text(part, "\t".join(header),
                        f"{prefix}, {unit} {header_row}" if prefix is not None else f"{unit} {header_row}",
                        {"column_headers": list(header), "header_row": header_row, "row_numbers": []},
                        content_hash)
        return
    flush()
