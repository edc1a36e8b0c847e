"""Category metadata as the reports need it, on top of the one catalogue.

The single source of truth is :mod:`scanner.core.categories` (key, labels, sensitivity, special
category under AVG art. 9, report order with special categories first, a stand-in for keys the
catalogue does not know). This module only adds what the reports need on top: the order of
the sensitivity levels, their labels, and the group an item is listed under.
"""

from __future__ import annotations

from collections.abc import Iterable

from scanner.core.categories import CATEGORIES, Sensitivity, info, sort_categories, sort_key

__all__ = ["CATEGORIES", "SENSITIVITY_ORDER", "info", "known_keys", "ordered", "primary", "sensitivity_label",
           "sort_key"]

SENSITIVITY_ORDER: tuple[str, ...] = tuple(
    s.value for s in sorted(Sensitivity, key=lambda s: -s.rank)
)
"""Sensitivity keys from most to least sensitive (bijzonder, hoog, normaal)."""


def known_keys() -> list[str]:
    return list(CATEGORIES)


ordered = sort_categories
"""``keys`` without duplicates, special categories first."""


def primary(keys: Iterable[str]) -> str | None:
    """The most sensitive of an item's categories: the group the digest lists it under."""
    keys = list(keys)
    return ordered(keys)[0] if keys else None


def sensitivity_label(key: str, language: str) -> str:
    try:
        return Sensitivity(key).label(language)
    except ValueError:
        return key
