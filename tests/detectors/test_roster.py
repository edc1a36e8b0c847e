"""STUDENT_ROSTER: the school's own student list, held only as keyed hashes."""

from __future__ import annotations

import pytest

from detectors import build_detector
from detectors.recognizers.roster import (
    Roster,
    RosterError,
    RosterNameRecognizer,
    RosterNumberRecognizer,
)
from detectors.settings import DetectionSettings, RosterSettings
from tests.detectors.conftest import above, body

CSV = (
    "leerlingnummer;roepnaam;tussenvoegsel;achternaam;geboortedatum\n"
    "123456;Sanne;de;Vries;12-03-2012\n"
    "234567;Jaylinn;;Zwartkruis;01-05-2013\n"
)


@pytest.fixture()
def roster_file(tmp_path):
    path = tmp_path / "leerlingen.csv"
    path.write_text(CSV, encoding="cp1252")
    return path


def test_roster_holds_no_clear_names(roster_file, hasher):
    roster = Roster.load(RosterSettings(path=roster_file), hasher)
    assert roster.students == 2
    dump = repr(vars(roster))
    for clear in ("Sanne", "sanne", "Vries", "vries", "Zwartkruis", "zwartkruis", "123456"):
        assert clear not in dump


@pytest.mark.parametrize("written", ["Sanne de Vries", "sanne de vries", "De Vries, Sanne",
                                     "Vries, Sanne de", "Sanne Vries", "Jaylinn Zwartkruis"])
def test_name_variants_match(roster_file, hasher, written):
    rec = RosterNameRecognizer(Roster.load(RosterSettings(path=roster_file), hasher), hasher)
    assert above(rec, f"Het werkstuk van {written} is binnen.") == [written]


def test_other_names_and_split_names_do_not_match(roster_file, hasher):
    rec = RosterNameRecognizer(Roster.load(RosterSettings(path=roster_file), hasher), hasher)
    assert above(rec, "Sanne Jansen en Daan de Vries") == []
    assert above(rec, "Sanne. De Vries") == []


def test_roster_numbers_need_a_label(roster_file, hasher):
    rec = RosterNumberRecognizer(Roster.load(RosterSettings(path=roster_file), hasher), hasher)
    assert above(rec, "leerlingnummer 123456") == ["123456"]
    assert above(rec, "bedrag 123456") == []
    assert above(rec, "leerlingnummer 999999") == []


def test_unreadable_roster_is_a_clear_error(tmp_path, hasher):
    with pytest.raises(RosterError, match="kan niet gelezen worden"):
        Roster.load(RosterSettings(path=tmp_path / "missing.csv"), hasher)
    bad = tmp_path / "bad.csv"
    bad.write_text("kolom1;kolom2\na;b\n", encoding="utf-8")
    with pytest.raises(RosterError, match="naamkolommen"):
        Roster.load(RosterSettings(path=bad), hasher)


def test_roster_hit_decides_the_verdict(roster_file, hasher):
    detector = build_detector(
        DetectionSettings(spacy_model="none", roster=RosterSettings(path=roster_file)), hasher
    )
    verdict = detector.analyze(body("Hoi Petra,\n\nHeb je de toets van Jaylinn Zwartkruis al?\n\nGroet,\nMark"))
    assert verdict.student_data
    assert "leerlingenlijst:1" in verdict.reasons
    assert [f.entity for f in verdict.findings if f.entity == "STUDENT_ROSTER"] == ["STUDENT_ROSTER"]


def test_a_rostered_first_name_alone_is_a_person_in_a_pupil_context(roster_file, hasher):
    """Issue 17 item 3: "Jaylinn was ziek" names a pupil the name lists do not know. It is a
    PERSON (which Jaylinn the text does not say), only with a pupil word near it, never after
    a staff title, never lower-case."""
    from detectors.recognizers.roster import RosterFirstNameRecognizer

    rec = RosterFirstNameRecognizer(Roster.load(RosterSettings(path=roster_file), hasher), hasher)
    assert above(rec, "Jaylinn was gisteren ziek.") == ["Jaylinn"]
    assert above(rec, "Morgen is Jaylinn afwezig, ze gaat naar de orthodontist.") == ["Jaylinn"]
    assert above(rec, "De moeder van Jaylinn belde.") == ["Jaylinn"]
    assert above(rec, "Jaylinn heeft de bestelling geplaatst.") == []  # no pupil word
    assert above(rec, "juf Jaylinn is ziek, er is een invaller.") == []  # staff nearer
    assert above(rec, "jaylinn was ziek") == []  # a name is capitalised
    assert above(rec, "Daan was ziek.") == []  # not on this roster
    assert all(f.entity == "PERSON" for f in rec.find("Jaylinn was ziek."))


def test_a_first_name_alone_adds_the_pupil_the_name_lists_miss(roster_file, hasher):
    detector = build_detector(
        DetectionSettings(spacy_model="none", roster=RosterSettings(path=roster_file)), hasher)
    verdict = detector.analyze(body("Hoi Petra,\n\nJaylinn was vandaag ziek, ze had koorts.\n\nGroet,\nMark"))
    assert verdict.student_data
    assert [f.entity for f in verdict.findings if f.masked.startswith("J")] == ["PERSON"]
    # a rostered full name stays the roster's identity; the first name alone does not claim it
    verdict = detector.analyze(body("Sanne de Vries is ziek. Sanne komt morgen weer."))
    assert [f.entity for f in verdict.findings if f.entity in ("PERSON", "STUDENT_ROSTER")] == [
        "STUDENT_ROSTER", "PERSON"]
