"""Small-cell protection for the FG statistics (minimum group size k).

A count below k (but above zero) is not published: it is shown as ``<k``. Hiding one cell
is not enough when totals are published next to it: with ``actief = 12`` and ``verlopen = 9``
shown, a hidden ``binnenkort`` of 3 is simple arithmetic. So after the primary suppression
a second pass hides, in every sum that has exactly one hidden part, the smallest other
non-zero part as well (secondary suppression), repeated until nothing changes. Those cells
are shown as ``*``.

Zero is published: "no items" about a group of people is not information about a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

SECONDARY = "*"


@dataclass
class ProtectedTable:
    """A table of counts with its suppression masks and display labels."""

    key: str
    values: pd.DataFrame  # int counts; index = row keys, columns = column keys
    row_labels: dict[str, str] = field(default_factory=dict)
    column_labels: dict[str, str] = field(default_factory=dict)
    primary: pd.DataFrame | None = None
    secondary: pd.DataFrame | None = None
    k: int = 5
    extra: pd.DataFrame | None = None
    """Non-count columns shown before the counts (labels such as sensitivity)."""

    def display(self) -> pd.DataFrame:
        """The table as published: counts, ``<k`` and ``*`` (strings), labelled."""
        shown = self.values.astype(object).copy()
        if self.primary is not None:
            shown = shown.mask(self.primary, f"<{self.k}")
        if self.secondary is not None:
            shown = shown.mask(self.secondary & ~(self.primary if self.primary is not None else False),
                               SECONDARY)
        if self.extra is not None:
            shown = pd.concat([self.extra, shown], axis=1)
        return shown

    def is_hidden(self, row: str, column: str) -> bool:
        hidden = False
        if self.primary is not None:
            hidden |= bool(self.primary.loc[row, column])
        if self.secondary is not None:
            hidden |= bool(self.secondary.loc[row, column])
        return hidden

    def visible_value(self, row: str, column: str) -> int | None:
        """The count when it may be shown, else ``None`` (charts use this, never ``values``)."""
        return None if self.is_hidden(row, column) else int(self.values.loc[row, column])


def protect(
    values: pd.DataFrame,
    k: int,
    row_sums: list[tuple[str, list[str]]] | None = None,
    columns_sum_to_total: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(primary, secondary)`` boolean masks for ``values``.

    ``row_sums`` lists, per row, which column is the published total of which part columns
    (``("actief", ["verlopen", "binnenkort", "ok"])``). ``columns_sum_to_total`` says that the
    rows of each column add up to a published total elsewhere (age buckets add up to the
    headline), so a column with one hidden cell needs a second one too.
    """
    counts = values.fillna(0).astype(int)
    primary = (counts > 0) & (counts < k)
    hidden = primary.copy()
    changed = True
    while changed:
        changed = False
        for total, parts in row_sums or []:
            for row in counts.index:
                part_hidden = [p for p in parts if hidden.loc[row, p]]
                if len(part_hidden) != 1 or hidden.loc[row, total]:
                    continue
                candidates = [p for p in parts if not hidden.loc[row, p] and counts.loc[row, p] > 0]
                if candidates:
                    pick = min(candidates, key=lambda p: counts.loc[row, p])
                    hidden.loc[row, pick] = True
                else:
                    hidden.loc[row, total] = True
                changed = True
        if columns_sum_to_total and len(counts.index) > 1:
            for column in counts.columns:
                rows_hidden = [r for r in counts.index if hidden.loc[r, column]]
                if len(rows_hidden) != 1:
                    continue
                candidates = [r for r in counts.index
                              if not hidden.loc[r, column] and counts.loc[r, column] > 0]
                if candidates:
                    pick = min(candidates, key=lambda r: counts.loc[r, column])
                    hidden.loc[pick, column] = True
                    changed = True
    secondary = hidden & ~primary
    return primary, secondary


def protect_number(value: int, k: int) -> str:
    """A single published count (headline figures)."""
    return f"<{k}" if 0 < value < k else str(value)
