"""Where a pupil is in school life, for the items whose roster matches name them.

Dossier terms run from the day a pupil **leaves** (leerlingdossier 2 years after
uitschrijving). The store holds no pupil name and no date of a pupil: an item's roster
findings carry only keyed hashes (``value_hash``), and this module maps those hashes to a
lifecycle in memory, read from the roster each time retention is computed. So the leaving
dates stay in the school's own LAS export (``leerlingen.csv`` and the optional file of former
pupils), a copied database reveals none of them, and a corrected export takes effect at the
next retention pass (its fingerprint is part of the rules' fingerprint).

An item's pupil state:

* ``left``: every matched pupil has a leaving date; the latest one counts (the dossier of a
  pair of siblings goes when both have been gone long enough);
* ``enrolled``: at least one matched pupil is still on the roster without a leaving date;
* no state (``None``): no roster match, a match the current roster no longer knows, a pupil
  whose leaving day is unknown, or a roster without lifecycle columns. Rules for an unknown
  state (the school-year approximation) apply then.

A hash that two pupils share (two pupils called Sanne de Vries) counts as both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from detectors.recognizers.roster import ENROLLED, LEFT, UNKNOWN, pupil_lifecycles
from detectors.settings import RosterSettings
from scanner.core.privacy import ValueHasher

REF_CHARS = 8
"""Characters of a roster finding's keyed hash shown to name "a pupil" in an explanation."""


@dataclass(frozen=True, slots=True)
class PupilFacts:
    """The pupil state of one item: ``enrolled`` or ``left`` (with the latest leaving date)."""

    state: str
    left: date | None
    ref: str
    """A prefix of the keyed hash of the finding whose pupil decided the state: lets IT
    tell two items of the same pupil apart from two of different pupils, names nobody."""


def _combine(a: tuple[str, date | None], b: tuple[str, date | None]) -> tuple[str, date | None]:
    """Two lifecycles behind one key or one item: enrolled beats unknown beats left; two
    leaving dates give the later one."""
    rank = {ENROLLED: 2, UNKNOWN: 1, LEFT: 0}
    if rank[a[0]] != rank[b[0]]:
        return a if rank[a[0]] > rank[b[0]] else b
    if a[0] == LEFT and a[1] is not None and b[1] is not None:
        return a if a[1] >= b[1] else b
    return a


class PupilIndex:
    """Keyed hash of a roster finding -> lifecycle of the pupils with that name or number.

    Lives for one retention pass; never written anywhere.
    """

    def __init__(self, entries: dict[str, tuple[str, date | None]], bad_dates: int = 0) -> None:
        self._entries = entries
        self.bad_dates = bad_dates
        """Leaving dates that could not be read (those pupils count as unknown)."""
        self.carries_lifecycle = any(status != UNKNOWN for status, _ in entries.values())

    @classmethod
    def load(cls, roster: RosterSettings, hasher: ValueHasher) -> PupilIndex:
        """Read the roster files (raises ``RosterError`` like the detector does)."""
        entries: dict[str, tuple[str, date | None]] = {}
        bad = 0
        for pupil in pupil_lifecycles(roster, hasher):
            bad += pupil.bad_date
            value = (pupil.status, pupil.left)
            for key in pupil.keys:
                old = entries.get(key)
                entries[key] = value if old is None else _combine(old, value)
        return cls(entries, bad)

    def fingerprint(self) -> str:
        """Changes when any pupil's lifecycle changes ("" without lifecycle: nothing to
        follow, so a roster without the columns leaves stored statuses as they were)."""
        if not self.carries_lifecycle:
            return ""
        digest = hashlib.sha256()
        for key in sorted(self._entries):
            status, left = self._entries[key]
            digest.update(f"{key}:{status}:{left.isoformat() if left else ''};".encode())
        return digest.hexdigest()[:32]

    def facts(self, keys: Iterable[str]) -> PupilFacts | None:
        """The pupil state of an item whose roster findings carry ``keys``."""
        best: tuple[str, date | None] | None = None
        best_key = ""
        for key in keys:
            value = self._entries.get(key)
            if value is None:
                continue
            combined = value if best is None else _combine(best, value)
            if combined is not best:
                best, best_key = combined, key
        if best is None or best[0] == UNKNOWN:
            return None
        return PupilFacts(best[0], best[1], best_key[:REF_CHARS])

