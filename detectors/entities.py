"""Entity names, their categories and the category keys: the vocabulary of detection output.

Kept in one small module so the recognizers, the verdict and the evaluation agree on spelling.
The category keys themselves (Dutch, the public contract in config and exports), their labels,
sensitivity and order come from the one catalogue, :mod:`scanner.core.categories`; this module
only says which entity belongs to which category and which categories the term lexicons find.
"""

from __future__ import annotations

from typing import Final

from scanner.core.categories import CATEGORY_ORDER

# Final: compiled (mypyc), ``E.NL_BSN`` in another module is the literal string, not a lookup of
# the module attribute (~270 instructions each; the verdict, the engine and canonical compare
# entities with these names for every hit)
NL_BSN: Final = "NL_BSN"
NL_ONDERWIJSNUMMER: Final = "NL_ONDERWIJSNUMMER"
NL_ID_DOCUMENT: Final = "NL_ID_DOCUMENT"
NL_LEERLINGNUMMER: Final = "NL_LEERLINGNUMMER"
DATE_OF_BIRTH: Final = "DATE_OF_BIRTH"
PHONE_NUMBER: Final = "PHONE_NUMBER"
EMAIL_ADDRESS: Final = "EMAIL_ADDRESS"
NL_ADDRESS: Final = "NL_ADDRESS"
IBAN_CODE: Final = "IBAN_CODE"
PERSON: Final = "PERSON"
LOCATION: Final = "LOCATION"
STUDENT_ROSTER: Final = "STUDENT_ROSTER"
CATEGORY_TERM: Final = "CATEGORY_TERM"

ENTITY_CATEGORY: dict[str, str | None] = {
    NL_BSN: "identificatie",
    NL_ONDERWIJSNUMMER: "identificatie",
    NL_ID_DOCUMENT: "identificatie",
    NL_LEERLINGNUMMER: "identificatie",
    DATE_OF_BIRTH: "identificatie",
    PHONE_NUMBER: "contactgegevens",
    EMAIL_ADDRESS: "contactgegevens",
    NL_ADDRESS: "contactgegevens",
    IBAN_CODE: "contactgegevens",
    PERSON: None,
    LOCATION: None,
    STUDENT_ROSTER: None,
}
"""Category of each entity; names carry no category of their own (they make data *personal*,
the category says what *kind* of data it is)."""

ALL_ENTITIES: tuple[str, ...] = (*ENTITY_CATEGORY.keys(), CATEGORY_TERM)

LEXICON_CATEGORIES: tuple[str, ...] = tuple(
    key for key in CATEGORY_ORDER if key not in set(ENTITY_CATEGORY.values())
)
"""Categories found by term lexicons: every category no entity recognizer stands for
(identificatie and contactgegevens come from the BSN, address, phone ... recognizers)."""
