"""The answers an owner can give, the reasons for a hold, and what each answer does.

One home for these keys: the store keeps them, the links carry them, the digest and the
pages label them (labels in :mod:`scanner.answers.i18n`).
"""

from __future__ import annotations

from typing import Final

from scanner.retention import FALSE_POSITIVE, LEGAL_HOLD

VERWIJDEREN: Final = "verwijderen"
BEWAREN: Final = "bewaren"
GEEN_LEERLINGGEGEVENS: Final = "geen_leerlinggegevens"
TERUGDRAAIEN: Final = "terugdraaien"
"""Not an answer but the link on the result page that reverses one (within ``undo_days``)."""

ACTIONS: Final = (VERWIJDEREN, BEWAREN, GEEN_LEERLINGGEGEVENS)
"""The three answers, in the order the digest shows them."""

DESTRUCTIVE: Final = frozenset({VERWIJDEREN})
"""Links for these act once: a replayed link changes nothing."""

MARKS: Final[dict[str, str | None]] = {
    VERWIJDEREN: None,
    BEWAREN: LEGAL_HOLD,
    GEEN_LEERLINGGEGEVENS: FALSE_POSITIVE,
}
"""The ``owner_mark`` each answer sets (what the retention policy reads). *verwijderen* sets
none: the item is moved at its source and the next scan sees it gone."""

HOLD_REASONS: Final = ("leerlingdossier", "lopende_zaak", "wettelijke_termijn", "anders")
"""The short fixed list of reasons for *bewaren*: a key, never free text (free text would
invite a pupil's name into the database)."""

RECORDED: Final = "recorded"
MOVED: Final = "moved"
FAILED: Final = "failed"
