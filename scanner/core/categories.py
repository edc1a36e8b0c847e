"""The categories of student data, their sensitivity, and the order reports show them in.

This is the single place that says what a category key means (key, Dutch and English label,
sensitivity, special category, order); every other list of categories derives from it. It is
on the ground floor because all three layers need it. Detectors emit the keys,
the retention policy matches on them and on their sensitivity, and the teacher digest and the
FG statistics show the labels in :data:`CATEGORY_ORDER` order (special categories first,
because they carry the highest risk and the reader should see them before anything else).

Sensitivity levels, and why each category sits where it does:

* ``bijzonder`` -- special categories of personal data under AVG art. 9 (health, religion,
  ethnicity). Processing them is forbidden unless an exception applies.
* ``hoog`` -- not art. 9, but harmful when leaked: care and support files (OPP, jeugdzorg),
  safety reports (meldcode, Veilig Thuis), the home situation (divorce, custody), and
  identification: the BSN may only be processed where a law prescribes it (UAVG art. 46) and
  an ID copy is a ready-made tool for identity fraud.
* ``normaal`` -- ordinary personal data: attendance, grades, contact details. Still personal
  data with a retention term, but a leak does less harm.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType


class Sensitivity(str, enum.Enum):
    """Sensitivity level of a category (Dutch keys are the public contract)."""

    NORMAAL = "normaal"
    HOOG = "hoog"
    BIJZONDER = "bijzonder"

    @property
    def rank(self) -> int:
        """0 for normaal, 1 for hoog, 2 for bijzonder: lets rules say "at least hoog"."""
        return _RANK[self]

    def label(self, lang: str = "nl") -> str:
        return _SENSITIVITY_LABELS[self][0 if lang == "nl" else 1]


_RANK = {Sensitivity.NORMAAL: 0, Sensitivity.HOOG: 1, Sensitivity.BIJZONDER: 2}
_SENSITIVITY_LABELS = {
    Sensitivity.NORMAAL: ("normaal", "normal"),
    Sensitivity.HOOG: ("hoog", "high"),
    Sensitivity.BIJZONDER: ("bijzonder (AVG art. 9)", "special category (GDPR art. 9)"),
}


@dataclass(frozen=True, slots=True)
class Category:
    """Metadata of one category. ``order`` is the position in digests and statistics."""

    key: str
    label_nl: str
    label_en: str
    sensitivity: Sensitivity
    special: bool
    order: int

    def label(self, lang: str = "nl") -> str:
        return self.label_nl if lang == "nl" else self.label_en


def _build(rows: Iterable[tuple[str, str, str, Sensitivity]]) -> Mapping[str, Category]:
    cats = {}
    for order, (key, nl, en, sens) in enumerate(rows):
        cats[key] = Category(key, nl, en, sens, sens is Sensitivity.BIJZONDER, order)
    return MappingProxyType(cats)


CATEGORIES: Mapping[str, Category] = _build(
    [
        # special categories (AVG art. 9) first
        ("gezondheid", "gezondheid", "health", Sensitivity.BIJZONDER),
        ("religie", "religie of levensovertuiging", "religion or belief", Sensitivity.BIJZONDER),
        ("etniciteit", "etniciteit", "ethnicity", Sensitivity.BIJZONDER),
        # high
        ("veiligheid", "veiligheid (meldcode)", "safety (reporting code)", Sensitivity.HOOG),
        ("zorg", "zorg en begeleiding", "care and support", Sensitivity.HOOG),
        ("thuissituatie", "thuissituatie", "home situation", Sensitivity.HOOG),
        (
            "identificatie",
            "identificatie (BSN, ID-bewijs)",
            "identification (BSN, ID document)",
            Sensitivity.HOOG,
        ),
        # normal
        ("verzuim", "verzuim", "absence", Sensitivity.NORMAAL),
        ("cijfers", "cijfers en resultaten", "grades and results", Sensitivity.NORMAAL),
        ("contactgegevens", "contactgegevens", "contact details", Sensitivity.NORMAAL),
    ]
)
"""All known categories, in report order."""

CATEGORY_ORDER: tuple[str, ...] = tuple(CATEGORIES)
SPECIAL_CATEGORIES: frozenset[str] = frozenset(k for k, c in CATEGORIES.items() if c.special)

_UNKNOWN_ORDER = len(CATEGORIES)


def info(key: str) -> Category:
    """Metadata of ``key``. An unknown key (a school's own lexicon, a detector newer than this
    table) gets a stand-in: its key as label, ``normaal``, sorted after every known key, so bad
    input never stops a run or breaks a digest; it is still reported under its key."""
    cat = CATEGORIES.get(key)
    if cat is not None:
        return cat
    return Category(key, key, key, Sensitivity.NORMAAL, False, _UNKNOWN_ORDER)


def sensitivity_of(key: str) -> Sensitivity:
    """Sensitivity of one category (``normaal`` for unknown keys, see :func:`info`)."""
    return info(key).sensitivity


def item_sensitivity(categories: Iterable[str]) -> Sensitivity | None:
    """The highest sensitivity among an item's categories, ``None`` for no categories."""
    best: Sensitivity | None = None
    for key in categories:
        sens = sensitivity_of(key)
        if best is None or sens.rank > best.rank:
            best = sens
    return best


def sort_key(key: str) -> tuple[int, str]:
    """Report order (special categories first); unknown keys last, alphabetically."""
    return (info(key).order, key)


def sort_categories(keys: Iterable[str]) -> list[str]:
    """Category keys without duplicates, in report order (see :func:`sort_key`)."""
    return sorted(set(keys), key=sort_key)


def category_label(key: str, lang: str = "nl") -> str:
    """Human label of a category key; an unknown key is shown as itself."""
    return info(key).label(lang)
