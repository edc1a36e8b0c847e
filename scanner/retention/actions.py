"""Suggested clean-up actions: stable keys for storage and export, labels for people.

The key is what a rule names in the YAML and what the store keeps; the labels are what a
teacher reads in the digest. ``geen`` is the action of items that need nothing (no student
data, exempt, or no rule applies).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from scanner.core.model import RetentionAction

DOSSIER_EN_VERWIJDEREN = RetentionAction.DOSSIER_EN_VERWIJDEREN.value
LAS_EN_VERWIJDEREN = RetentionAction.LAS_EN_VERWIJDEREN.value
VERWIJDEREN = RetentionAction.VERWIJDEREN.value
ARCHIVEREN = RetentionAction.ARCHIVEREN.value
GEEN = RetentionAction.GEEN.value

ACTIONS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        DOSSIER_EN_VERWIJDEREN: (
            "in het leerlingdossier zetten en verwijderen",
            "file in the student record and delete",
        ),
        LAS_EN_VERWIJDEREN: (
            "in het LAS zetten en verwijderen",
            "record in the student administration system (LAS) and delete",
        ),
        VERWIJDEREN: ("verwijderen", "delete"),
        ARCHIVEREN: ("archiveren in het LAS / archief", "archive in the LAS / archive"),
        GEEN: ("geen actie nodig", "no action needed"),
    }
)
"""Action key -> (Dutch label, English label)."""


def action_label(key: str, lang: str = "nl") -> str:
    """Label of an action key in ``lang`` ("nl" or "en"); an unknown key is shown as itself."""
    labels = ACTIONS.get(key)
    if labels is None:
        return key
    return labels[0] if lang == "nl" else labels[1]
