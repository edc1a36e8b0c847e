"""Explanations in Dutch and English: which rule, which term, from when, and nothing private."""

from __future__ import annotations

from datetime import date

import pytest

from scanner.core.dates import format_date
from scanner.retention import RetentionPolicy, RetentionSettings
from scanner.retention.explain import term_text
from scanner.retention.settings import Term
from tests.retention.retention_helpers import at, facts


def test_school_year_rule_in_dutch_and_english(policy: RetentionPolicy) -> None:
    d = policy.evaluate(facts(categories=("verzuim",), when=at(2025, 3, 3)))
    nl = d.explain()
    assert nl == d.explain("nl")
    for part in [
        "Regel 'verzuim_mail'",
        "60 dagen na het einde van het schooljaar",
        "Datum van het item: 3 maart 2025 (schooljaar 2024-2025, eindigt 31 juli 2025)",
        "Bewaren tot en met 29 september 2025",
        "Status: binnenkort (nog 19 dagen)",
        "Actie: in het LAS zetten en verwijderen",
    ]:
        assert part in nl, part
    en = d.explain("en")
    for part in [
        "Rule 'verzuim_mail'",
        "60 days after the end of the school year",
        "Item date: 3 March 2025 (school year 2024-2025, ends 31 July 2025)",
        "Keep until 29 September 2025",
        "Status: due soon (19 days left)",
        "record in the student administration system (LAS) and delete",
    ]:
        assert part in en, part


def test_overdue_says_since_when_and_names_the_other_rules(policy: RetentionPolicy) -> None:
    d = policy.evaluate(
        facts(folder="Verwijderde items", categories=("verzuim",), when=at(2025, 3, 3))
    )
    nl, en = d.explain("nl"), d.explain("en")
    assert "Status: verlopen sinds 3 april 2025." in nl
    assert "Strengste van 2 passende regels (ook van toepassing: verzuim_mail)." in nl
    assert "Status: overdue since 3 April 2025." in en
    assert "Strictest of 2 applicable rules (also applicable: verzuim_mail)." in en


def test_fallback_and_immediate_rules(policy: RetentionPolicy) -> None:
    fb = policy.evaluate(facts(when=at(2025, 3, 3)))
    assert "Vangnetregel" in fb.explain("nl") and "Fallback rule" in fb.explain("en")
    idc = policy.evaluate(facts(categories=("identificatie",), entities=("NL_ID_DOCUMENT",)))
    assert "direct: mag niet bewaard worden" in idc.explain("nl")
    assert "Status: verlopen (direct)." in idc.explain("nl")
    assert "Status: overdue (immediately)." in idc.explain("en")
    assert "Bewaren tot en met" not in idc.explain("nl")


def test_last_day_and_within_term() -> None:
    policy = RetentionPolicy(RetentionSettings(), today=date(2025, 9, 29))
    f = facts(when=at(2025, 3, 3))
    assert "vandaag is de laatste dag" in policy.evaluate(f).explain("nl")
    assert "today is the last day" in policy.evaluate(f).explain("en")
    early = policy.evaluate(f, today=date(2025, 4, 1))
    assert "Status: op tijd." in early.explain(
        "nl"
    ) and "Status: within its term." in early.explain("en")


def test_exemptions_do_not_reveal_labels_or_folders(policy: RetentionPolicy) -> None:
    hold = policy.evaluate(facts(folder="Bewaarplicht/Zaak Jansen"))
    assert (
        hold.explain("nl")
        == "Uitgezonderd van opruimen: juridische bewaarplicht, via de map; geen vervaldatum."
    )
    assert hold.explain("en") == "Exempt from clean-up: legal hold, by its folder; no due date."
    fp = policy.evaluate(facts(labels=("Schoonschip: geen leerlinggegevens",)))
    assert "fout-positief" in fp.explain("nl") and "Schoonschip" not in fp.explain("nl")
    assert "false positive" in fp.explain("en")
    owner = policy.evaluate(facts(owner_mark="legal_hold"))
    assert "door de eigenaar gemarkeerd" in owner.explain("nl")


def test_no_student_data_and_no_rule() -> None:
    policy = RetentionPolicy(
        RetentionSettings.model_validate({"rules": []}), today=date(2025, 9, 10)
    )
    assert "Geen leerlinggegevens" in policy.evaluate(facts(student_data=False)).explain("nl")
    assert "No student data" in policy.evaluate(facts(student_data=False)).explain("en")
    assert "geen enkele regel" in policy.evaluate(facts()).explain("nl")
    assert "no rule applies" in policy.evaluate(facts()).explain("en")


def test_unknown_language_is_refused(policy: RetentionPolicy) -> None:
    with pytest.raises(ValueError, match="onbekende taal"):
        policy.evaluate(facts()).explain("de")


def test_term_texts_and_dates() -> None:
    assert (
        term_text(Term(after="school_year_end", years=2))
        == "2 jaar na het einde van het schooljaar"
    )
    assert term_text(Term(after="school_year_end"), "en") == "until the end of the school year"
    assert (
        term_text(Term(after="received", years=1, days=1), "en")
        == "1 year and 1 day after the item's date"
    )
    assert (
        term_text(Term(after="received", years=1, days=2))
        == "1 jaar en 2 dagen na de datum van het item"
    )
    assert format_date(date(2024, 2, 29)) == "29 februari 2024"
    assert format_date(date(2024, 12, 1), "en") == "1 December 2024"
