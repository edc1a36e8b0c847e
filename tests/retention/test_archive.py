"""Archiefwet records are archived, never proposed for deletion (issue 20, item 2)."""

from __future__ import annotations

from datetime import date

import pytest

from reports.digest import render_digest
from scanner.core.model import RetentionStatus
from scanner.retention import RetentionPolicy, RetentionSettings, action_label
from scanner.retention.pupils import PupilFacts
from tests.reports.reports_testkit import digest, item
from tests.retention.retention_helpers import at, facts


@pytest.fixture
def policy() -> RetentionPolicy:
    return RetentionPolicy(RetentionSettings(), today=date(2025, 9, 10))


@pytest.mark.parametrize(("title", "rule"), [
    ("Cijferlijst CE 2024 havo 5.xlsx", "archief_cijferlijst_examen"),
    ("examen-cijferlijst vwo.pdf", "archief_cijferlijst_examen"),
    ("Diplomaregister 2023-2024.xlsx", "archief_diplomaregister"),
    ("Besluit vrijstelling leerplicht.pdf", "archief_vrijstelling_leerplicht"),
])
def test_archiefwet_records_are_archived(policy, title, rule):
    d = policy.evaluate(facts(kind="file", folder="Administratie", when=at(2024, 6, 20),
                              categories=("cijfers",), title=title))
    assert (d.rule_id, d.action, d.due_date, d.status) == (
        rule, "archiveren", date(2024, 9, 29), RetentionStatus.OVERDUE)


def test_archive_beats_every_deletion_rule(policy):
    # an exam list with BSNs and ID numbers, of a pupil who left, in the trash folder
    d = policy.evaluate(facts(kind="file", folder="Gedeeld/Prullenbak", when=at(2024, 6, 20),
                              categories=("cijfers", "identificatie"), entities=("NL_BSN", "NL_ID_DOCUMENT"),
                              title="Cijferlijst centraal examen 2024.xlsx",
                              pupil=PupilFacts("left", date(2024, 7, 31), "ab12cd34")))
    assert d.action == "archiveren" and d.rule_id == "archief_cijferlijst_examen"
    assert "id_documenten" not in d.also_matched  # deletion rules are not even candidates
    text = d.explain("nl")
    assert "archiveren in het LAS / archief" in text and "nooit ter verwijdering" in text
    assert "never proposed for deletion" in d.explain("en")


def test_an_ordinary_grade_list_is_not_archived(policy):
    d = policy.evaluate(facts(kind="file", folder="Groep 7", when=at(2024, 6, 20), categories=("cijfers",),
                              title="Cijferlijst rekenen groep 7.xlsx"))
    assert d.action != "archiveren"


def test_exemptions_still_come_first(policy):
    d = policy.evaluate(facts(kind="file", title="Diplomaregister.xlsx", labels=("Legal hold",)))
    assert d.exempt_reason == "legal_hold"


def test_the_digest_says_archive_in_both_languages():
    rendered = render_digest(digest([item(1, kind="file", action="archiveren", title="Cijferlijst CE")]))
    assert rendered is not None
    for body in (rendered.text, rendered.html):
        assert "Archiveer in het LAS / archief" in body
        assert "Verwijder" not in body.split("Cijferlijst CE", 1)[1].split("Openen")[0]
    english = render_digest(digest([item(1, kind="mail", action="archiveren")], language="en"))
    assert english is not None and "Archive in the LAS / archive" in english.text
    assert action_label("archiveren", "en") == "archive in the LAS / archive"
