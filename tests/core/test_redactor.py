"""The prepared Redactor masks exactly what value-by-value redaction masked (issue 21 item 2:
it skips a value only when a necessary condition for a match fails, so the output must not
change). The reference below is the algorithm as it was before the Redactor, kept verbatim."""

from __future__ import annotations

import random
import re

from scanner.core.privacy import Redactor, mask, redact


def reference(text: str, values: dict[str, str]) -> str:
    if not text or not values:
        return text
    for value, entity in sorted(values.items(), key=lambda item: -len(item[0])):
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 6 and len(digits) >= len(re.sub(r"\s", "", value)) * 0.6:
            pattern = r"(?<!\d)" + r"[\s.\-/]?".join(digits) + r"(?!\d)"
        else:
            pattern = r"[\s_./\\\-]+".join(re.escape(word) for word in value.split())
        if pattern:
            replacement = mask(value, entity).replace("\\", "\\\\")
            text = re.sub(pattern, replacement, text, flags=re.IGNORECASE)
    return text


VALUES = {"111222333": "NL_BSN", "Lotte Bos": "PERSON", "lotte": "PERSON", "Eva": "PERSON",
          "Zoë de Wit": "PERSON", "06-12345678": "PHONE_NUMBER", "1234 AB": "NL_POSTCODE",
          "j.jansen@school.nl": "EMAIL_ADDRESS", "K": "PERSON", "Straße 1": "LOCATION", "  ": "PERSON",
          "a\\b": "PERSON", "2015-03-04": "DATE_TIME"}
PIECES = ["111.222.333", "111 222 333", "1112.22.333", "1112223334", "Lotte_Bos", "LOTTE.bos", "lotte-bos",
          "Zoë_de_Wit",
          "ZOË DE WIT", "eva", "EVA", "06 1234 5678", "0612345678", "1234AB", "1234 ab", "J.Jansen@School.nl",
          "\u212a", "k", "STRASSE 1", "Straße 1", "a\\b", "2015-03-04", "04-03-2015", "verslag", ".docx", "/",
          " ", "_", "-", "ſ", "İ", "groep 7", "Bijlage", "\u0661\u0661\u0661"]


def test_the_redactor_masks_what_value_by_value_redaction_masked() -> None:
    rng = random.Random(21)
    redactor = Redactor(VALUES)
    for _ in range(4000):
        text = "".join(rng.choice(PIECES) + rng.choice(["", " ", "_", "."]) for _ in range(rng.randint(1, 6)))
        subset = dict(rng.sample(sorted(VALUES.items()), rng.randint(1, len(VALUES))))
        expected = reference(text, subset)
        assert redact(text, subset) == expected, (text, subset)
        assert Redactor(subset)(text) == expected, (text, subset)
        assert redactor(text) == reference(text, VALUES), text


def test_a_value_in_a_subject_is_masked_and_other_text_kept() -> None:
    redactor = Redactor({"111222333": "NL_BSN", "Lotte Bos": "PERSON"})
    assert redactor("Verslag Lotte_Bos BSN 111.222.333.docx") == "Verslag L******** BSN *****2333.docx"
    assert redactor("Rooster groep 7") == "Rooster groep 7"
    assert redactor("") == "" and Redactor({})("Lotte Bos") == "Lotte Bos"
