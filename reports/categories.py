"""Category metadata as the reports need it: labels per language, sensitivity, ordering.

The single source of truth is :mod:`scanner.retention.categories` (key, labels, sensitivity,
special category under AVG art. 9, report order with special categories first). This module
only adds what the reports need on top: a stand-in for keys the catalogue does not know (a
school's own lexicon category still renders, under its key and sorted last, rather than
breaking a digest), and the choice of the group an item is listed under.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scanner.retention.categories import CATEGORIES, Sensitivity

SENSITIVITY_ORDER: tuple[str, ...] = tuple(
    s.value for s in sorted(Sensitivity, key=lambda s: -s.rank)
)
"""Sensitivity keys from most to least sensitive (bijzonder, hoog, normaal)."""


@dataclass(frozen=True)
class CategoryInfo:
    key: str
    label_nl: str
    label_en: str
    sensitivity: str
    special: bool
    order: int

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_nl


def info(key: str) -> CategoryInfo:
    """Metadata of ``key``; unknown keys get their key as label and sort after known ones."""
    known = CATEGORIES.get(key)
    if known is not None:
        return CategoryInfo(key=known.key, label_nl=known.label_nl, label_en=known.label_en,
                            sensitivity=known.sensitivity.value, special=known.special,
                            order=known.order)
    return CategoryInfo(key=key, label_nl=key, label_en=key, sensitivity=Sensitivity.NORMAAL.value,
                        special=False, order=len(CATEGORIES))


def known_keys() -> list[str]:
    return list(CATEGORIES)


def sort_key(key: str) -> tuple[int, int, str]:
    """Special categories first, then catalogue order, unknown keys last (alphabetically)."""
    meta = info(key)
    return (0 if meta.special else 1, meta.order, key)


def ordered(keys: Iterable[str]) -> list[str]:
    """``keys`` without duplicates, special categories first."""
    return sorted(set(keys), key=sort_key)


def primary(keys: Iterable[str]) -> str | None:
    """The most sensitive of an item's categories: the group the digest lists it under."""
    keys = list(keys)
    return ordered(keys)[0] if keys else None


def sensitivity_label(key: str, language: str) -> str:
    try:
        return Sensitivity(key).label(language)
    except ValueError:
        return key
