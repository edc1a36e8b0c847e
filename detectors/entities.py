"""Entity names, their categories and the category keys: the vocabulary of detection output.

Kept in one small module so the recognizers, the verdict, the evaluation and the reports agree
on spelling. Category keys are Dutch because they are the public contract (config, exports).
"""

from __future__ import annotations

NL_BSN = "NL_BSN"
NL_ONDERWIJSNUMMER = "NL_ONDERWIJSNUMMER"
NL_ID_DOCUMENT = "NL_ID_DOCUMENT"
NL_LEERLINGNUMMER = "NL_LEERLINGNUMMER"
DATE_OF_BIRTH = "DATE_OF_BIRTH"
PHONE_NUMBER = "PHONE_NUMBER"
EMAIL_ADDRESS = "EMAIL_ADDRESS"
NL_ADDRESS = "NL_ADDRESS"
IBAN_CODE = "IBAN_CODE"
PERSON = "PERSON"
LOCATION = "LOCATION"
STUDENT_ROSTER = "STUDENT_ROSTER"
CATEGORY_TERM = "CATEGORY_TERM"

CATEGORIES: tuple[str, ...] = (
    "identificatie",
    "contactgegevens",
    "gezondheid",
    "zorg",
    "verzuim",
    "thuissituatie",
    "veiligheid",
    "religie",
    "etniciteit",
    "cijfers",
)
"""All category keys, in the order reports show them."""

LEXICON_CATEGORIES: tuple[str, ...] = CATEGORIES[2:]
"""Categories found by term lexicons (the first two come from entity recognizers)."""

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
