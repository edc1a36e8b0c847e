"""Retention that follows the pupil: leaving dates from the roster, never in the store."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date

import pytest

from detectors import build_detector
from detectors.entities import STUDENT_ROSTER
from detectors.recognizers.roster import ENROLLED, LEFT, UNKNOWN, pupil_lifecycles
from detectors.settings import DetectionSettings, RosterSettings
from scanner.core.dates import parse_school_date
from scanner.core.model import RetentionStatus
from scanner.core.privacy import ValueHasher
from scanner.retention import RetentionPolicy, RetentionSettings
from scanner.retention.pupils import PupilFacts, PupilIndex
from tests.detectors.conftest import body
from tests.retention.retention_helpers import at, facts

ROSTER = (
    "leerlingnummer;roepnaam;tussenvoegsel;achternaam;inschrijfdatum;uitschrijfdatum\n"
    "123456;Sanne;de;Vries;01-08-2015;\n"
    "234567;Jaylinn;;Zwartkruis;1-8-2014;31-07-2022\n"
    "345678;Milan;van;Dijk;2014-08-01;2023-07-14\n"
    "456789;Fenna;;Brouwer;01-08-2014;31-02-2023\n"
)
FORMER = (
    "leerlingnummer;roepnaam;tussenvoegsel;achternaam;uitschrijfdatum\n"
    "567890;Ruben;;Kramer;15/07/2021\n"
    "678901;Noor;;Smit;\n"
)


@pytest.fixture
def hasher() -> ValueHasher:
    return ValueHasher(os.urandom(32))


@pytest.fixture
def roster(tmp_path) -> RosterSettings:
    (tmp_path / "leerlingen.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "oud.csv").write_text(FORMER, encoding="cp1252")
    return RosterSettings(path=tmp_path / "leerlingen.csv", former_path=tmp_path / "oud.csv")


@pytest.mark.parametrize(("text", "expected"), [
    ("31-07-2022", date(2022, 7, 31)), ("1-8-2014", date(2014, 8, 1)),
    ("15/07/2021", date(2021, 7, 15)), ("03.04.2020", date(2020, 4, 3)),
    ("2023-07-14", date(2023, 7, 14)), ("2023-07-14T00:00:00", date(2023, 7, 14)),
    ("", None), ("31-02-2023", None), ("juli 2023", None), ("07/2023", None),
])
def test_school_dates_day_first_and_iso(text, expected):
    assert parse_school_date(text) == expected


def test_lifecycles_of_roster_and_former_pupils(roster, hasher):
    pupils = list(pupil_lifecycles(roster, hasher))
    assert [(p.status, p.left) for p in pupils] == [
        (ENROLLED, None), (LEFT, date(2022, 7, 31)), (LEFT, date(2023, 7, 14)),
        (UNKNOWN, None),  # 31-02: unreadable, never guessed
        (LEFT, date(2021, 7, 15)), (UNKNOWN, None),  # a former pupil without a date
    ]
    assert [p.bad_date for p in pupils] == [False, False, False, True, False, False]
    dump = repr(pupils).casefold()
    for clear in ("Sanne", "Vries", "Zwartkruis", "Kramer", "123456"):
        assert clear.casefold() not in dump


def test_lifecycle_keys_are_the_hashes_roster_findings_carry(roster, hasher):
    """The one link between an item and a pupil: the finding's keyed hash."""
    detector = build_detector(DetectionSettings(spacy_model="none", roster=roster), hasher)
    verdict = detector.analyze(body(
        "Het OPP van Vries, Sanne de en het verslag over Ruben Kramer (leerlingnummer 234567)."))
    found = {f.value_hash for f in verdict.findings if f.entity == STUDENT_ROSTER}
    keys = [p.keys for p in pupil_lifecycles(roster, hasher)]
    assert len(found) == 3
    assert found <= keys[0] | keys[1] | keys[4]
    assert found & keys[0] and found & keys[1] and found & keys[4]  # Sanne, Jaylinn's number, Ruben


def test_former_pupils_are_student_names_too(roster, hasher):
    detector = build_detector(DetectionSettings(spacy_model="none", roster=roster), hasher)
    verdict = detector.analyze(body("Hoi,\n\nIk vond nog het rapport van Noor Smit.\n\nGroet"))
    assert "leerlingenlijst:1" in verdict.reasons


def keys_of(roster, hasher, *rows: int) -> set[str]:
    pupils = list(pupil_lifecycles(roster, hasher))
    return set().union(*(pupils[i].keys for i in rows))


def test_item_state_from_its_pupils(roster, hasher):
    index = PupilIndex.load(roster, hasher)
    assert index.carries_lifecycle and index.bad_dates == 1
    both_left = index.facts(keys_of(roster, hasher, 1, 2))
    assert both_left is not None and (both_left.state, both_left.left) == (LEFT, date(2023, 7, 14))
    assert len(both_left.ref) == 8 and both_left.ref in "".join(keys_of(roster, hasher, 2))
    one_here = index.facts(keys_of(roster, hasher, 1, 0))
    assert one_here is not None and one_here.state == ENROLLED
    assert index.facts(keys_of(roster, hasher, 1, 3)) is None  # a leaver and an unknown date
    assert index.facts(keys_of(roster, hasher, 5)) is None
    assert index.facts({"0" * 32}) is None  # a pupil the roster no longer knows


def test_a_shared_name_counts_as_both_pupils(tmp_path, hasher):
    (tmp_path / "l.csv").write_text(
        "roepnaam;achternaam;uitschrijfdatum\nSanne;Jansen;31-07-2020\nSanne;Jansen;\n", encoding="utf-8")
    settings = RosterSettings(path=tmp_path / "l.csv")
    index = PupilIndex.load(settings, hasher)
    shared = next(iter(pupil_lifecycles(settings, hasher))).keys
    assert index.facts(shared).state == ENROLLED


def test_a_roster_without_lifecycle_changes_nothing(tmp_path, hasher):
    (tmp_path / "l.csv").write_text("roepnaam;achternaam\nSanne;Jansen\n", encoding="utf-8")
    index = PupilIndex.load(RosterSettings(path=tmp_path / "l.csv"), hasher)
    assert not index.carries_lifecycle and index.fingerprint() == ""


def test_fingerprint_follows_a_leaving_date(tmp_path, hasher):
    path = tmp_path / "l.csv"
    path.write_text("roepnaam;achternaam;uitschrijfdatum\nSanne;Jansen;\n", encoding="utf-8")
    before = PupilIndex.load(RosterSettings(path=path), hasher).fingerprint()
    path.write_text("roepnaam;achternaam;uitschrijfdatum\nSanne;Jansen;31-07-2026\n", encoding="utf-8")
    assert PupilIndex.load(RosterSettings(path=path), hasher).fingerprint() != before


LEFT_2022 = PupilFacts(LEFT, date(2022, 7, 31), "ab12cd34")
HERE = PupilFacts(ENROLLED, None, "ef56ab78")
TODAY = date(2025, 9, 10)


@pytest.fixture
def policy() -> RetentionPolicy:
    return RetentionPolicy(RetentionSettings(), today=TODAY)


def test_a_leavers_file_is_due_two_years_after_leaving(policy):
    # dated long before leaving: the school-year approximation would have made it overdue in 2020
    d = policy.evaluate(facts(kind="file", folder="Gedeeld/Zorg", when=at(2018, 3, 3), pupil=LEFT_2022))
    assert (d.rule_id, d.due_date, d.status) == (
        "leerlingdossier_vertrokken", date(2024, 7, 31), RetentionStatus.OVERDUE)
    assert d.action == "dossier_en_verwijderen" and d.pupil == LEFT_2022


def test_an_enrolled_pupils_file_is_kept(policy):
    d = policy.evaluate(facts(kind="file", folder="Gedeeld/Zorg", when=at(2015, 3, 3), pupil=HERE))
    assert (d.rule_id, d.due_date, d.status, d.action) == (
        "leerlingdossier_ingeschreven", None, RetentionStatus.OK, "geen")


def test_without_a_pupil_state_the_approximation_stays(policy):
    d = policy.evaluate(facts(kind="file", folder="Gedeeld/Zorg", when=at(2018, 3, 3)))
    assert (d.rule_id, d.due_date) == ("zorgmappen", date(2020, 7, 31))


def test_mail_keeps_its_own_rule(policy):
    for pupil in (LEFT_2022, HERE, None):
        d = policy.evaluate(facts(kind="mail", when=at(2024, 3, 3), pupil=pupil))
        assert (d.rule_id, d.due_date) == ("mail_leerlinggegevens", date(2024, 9, 29))


def test_stricter_rules_still_win_for_enrolled_pupils(policy):
    copy = policy.evaluate(facts(kind="file", categories=("identificatie",), entities=("NL_ID_DOCUMENT",),
                                 pupil=HERE))
    assert copy.rule_id == "id_documenten" and copy.status is RetentionStatus.OVERDUE
    trash = policy.evaluate(facts(kind="file", folder="Gedeeld/Prullenbak", when=at(2025, 3, 3), pupil=HERE))
    assert trash.rule_id == "verwijderde_items"


def test_verzuim_of_a_leaver_counts_five_years_from_leaving(policy):
    d = policy.evaluate(facts(kind="file", categories=("verzuim",), when=at(2016, 3, 3), pupil=LEFT_2022))
    assert (d.rule_id, d.due_date) == ("verzuim_vertrokken_leerling", date(2027, 7, 31))


def test_a_leavers_undated_file_still_gets_its_term(policy):
    d = policy.evaluate(replace(facts(kind="file", pupil=LEFT_2022), date=None))
    assert (d.rule_id, d.due_date) == ("leerlingdossier_vertrokken", date(2024, 7, 31))


def test_explain_names_the_rule_not_the_pupil(policy):
    left = policy.evaluate(facts(kind="file", when=at(2018, 3, 3), pupil=LEFT_2022))
    nl, en = left.explain("nl"), left.explain("en")
    assert "2 jaar na uitschrijving van de leerling" in nl and "#ab12cd34" in nl
    assert "31 juli 2022" in nl and "Bewaren tot en met 31 juli 2024" in nl
    assert "2 years after the pupil left school" in en and "pupil #ab12cd34" in en
    here = policy.evaluate(facts(kind="file", when=at(2018, 3, 3), pupil=HERE)).explain("nl")
    assert "nog ingeschreven" in here and "#ef56ab78" in here and "geen vervaldatum" in here


def test_pupil_terms_fit_their_condition():
    with pytest.raises(ValueError, match="pupil: \\[left\\]"):
        RetentionSettings.model_validate({"rules": [{
            "id": "x", "match": {"pupil": ["enrolled"]}, "term": {"after": "pupil_left", "years": 2},
            "action": "verwijderen"}]})
    with pytest.raises(ValueError, match="action"):
        RetentionSettings.model_validate({"rules": [{"id": "x", "term": {"after": "pupil_left"}}]})
    with pytest.raises(ValueError, match="while_enrolled"):
        RetentionSettings.model_validate({"rules": [{"id": "x", "term": {"while_enrolled": True, "years": 1}}]})


def test_a_missing_former_pupils_file_is_a_clear_error(roster, hasher, tmp_path):
    from detectors.recognizers.roster import Roster, RosterError
    from detectors.settings import check_detection_settings

    missing = roster.model_copy(update={"former_path": tmp_path / "weg.csv"})
    with pytest.raises(RosterError, match="oud-leerlingenlijst kan niet gelezen worden"):
        Roster.load(missing, hasher)
    with pytest.raises(ValueError, match="former-pupils list cannot be read"):
        check_detection_settings(DetectionSettings(spacy_model="none", roster=missing))


def test_a_referral_to_special_education_keeps_its_legal_term(policy):
    """Issue 20: a referral (toelaatbaarheidsverklaring) is kept 3 years after the pupil left.
    It is a care file too, whose 2-year dossier term would win under "shortest wins": the
    statutory rule decides instead; mail keeps its own rule."""
    title = "Toelaatbaarheidsverklaring SBO 2021.pdf"
    left = policy.evaluate(facts(kind="file", folder="Gedeeld/Zorg", when=at(2021, 3, 3), pupil=LEFT_2022,
                                 title=title))
    assert (left.rule_id, left.due_date, left.status) == (
        "verwijzing_so_vertrokken", date(2025, 7, 31), RetentionStatus.OVERDUE)
    here = policy.evaluate(facts(kind="file", folder="Gedeeld/Zorg", when=at(2021, 3, 3), pupil=HERE, title=title))
    assert (here.rule_id, here.due_date, here.status) == ("verwijzing_so_ingeschreven", None, RetentionStatus.OK)
    unknown = policy.evaluate(facts(kind="file", folder="Gedeeld/Zorg", when=at(2021, 3, 3), title=title))
    assert (unknown.rule_id, unknown.due_date) == ("verwijzing_so", date(2024, 7, 31))
    plain = policy.evaluate(facts(kind="file", folder="Gedeeld/Zorg", when=at(2021, 3, 3), pupil=LEFT_2022,
                                  title="OPP Daan.docx"))
    assert plain.rule_id == "leerlingdossier_vertrokken"  # not a referral: the dossier term
    mail = policy.evaluate(facts(kind="mail", when=at(2024, 3, 3), pupil=LEFT_2022, title="Aanvraag TLV"))
    assert mail.rule_id == "mail_leerlinggegevens"
    # an Archiefwet record still goes first
    exam = policy.evaluate(facts(kind="file", when=at(2021, 3, 3), pupil=LEFT_2022,
                                 title="cijferlijst examen tlv 2021.xlsx"))
    assert exam.action == "archiveren"
