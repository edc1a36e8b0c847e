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


def _state(obj: object) -> dict[str, object]:
    """An instance's attributes, for a class compiled by mypyc too (no ``__dict__`` there:
    its attributes are listed in ``__mypyc_attrs__``)."""
    names = getattr(type(obj), "__mypyc_attrs__", None)
    if names is None:
        return dict(vars(obj))
    return {name: getattr(obj, name) for name in names if hasattr(obj, name)}


def test_roster_holds_no_clear_names(roster_file, hasher):
    roster = Roster.load(RosterSettings(path=roster_file), hasher)
    assert roster.students == 2
    dump = repr(_state(roster))
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


@pytest.mark.parametrize("written", ["Sanne de Vr ies", "Sanne deVries", "Sanne, de, Vries"])
def test_windows_split_differently_still_match(roster_file, hasher, written):
    # the prefix filter stops a window only when its normalised text starts no variant: a
    # variant written across other token boundaries (normalised alike) is still found
    rec = RosterNameRecognizer(Roster.load(RosterSettings(path=roster_file), hasher), hasher)
    assert above(rec, f"Het werkstuk van {written} is binnen.") == [written]


def test_prefix_filter_keeps_every_prefix_and_drops_most_others(roster_file, hasher):
    from detectors.recognizers.roster import _digest
    from scanner.core.privacy import normalise

    roster = Roster.load(RosterSettings(path=roster_file), hasher)
    for variant in ("Sanne de Vries", "Vries Sanne de", "Zwartkruis Jaylinn"):
        full = normalise(variant)
        assert all(roster.may_continue(_digest(roster.filter_key, full[:k]))
                   for k in range(1, len(full) + 1))
    others = [f"sannex{i}" for i in range(2000)]
    passed = sum(roster.may_continue(_digest(roster.filter_key, w)) for w in others)
    assert passed < 400  # a bitmap of 16 bits per prefix: ~6 % expected


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


_SCAN_TEXTS = [
    "Sanne de Vries is ziek. De moeder van Sanne belde, Vries, Sanne de komt morgen.",
    "Het werkstuk van Jaylinn Zwartkruis en van sanne de vries is binnen; Jaylinn was ziek.",
    "de Vries Sanne, DE VRIES SANNE en Vries Sanne de: leerling Sanne, juf Sanne, 123456 Sanne",
    "Geen leerling hier: de vergadering is verplaatst naar dinsdag.",
]


def _candidates(roster, hasher, text):
    from detectors.recognizers.roster import RosterFirstNameRecognizer

    return (list(RosterNameRecognizer(roster, hasher).candidates(text)),
            list(RosterFirstNameRecognizer(roster, hasher).candidates(text)))


def test_the_shared_scan_memo_holds_no_roster_word(roster_file, hasher):
    """The memo of the token scan keeps words that start no roster name only: after texts full
    of rostered names it holds none of them (nor the tussenvoegsel that starts a variant)."""
    roster = Roster.load(RosterSettings(path=roster_file), hasher)
    for text in _SCAN_TEXTS:
        _candidates(roster, hasher, text)
    misses = roster.scan.misses
    assert {"ziek", "moeder", "belde", "werkstuk"} <= misses  # words that start no name are kept
    for word in misses:
        assert word.casefold() not in {"sanne", "vries", "de", "jaylinn", "zwartkruis"}
    assert "Sanne" not in repr(_state(roster)) and "ziek" not in repr(_state(roster))


def test_results_do_not_depend_on_the_scan_memo(roster_file, hasher, monkeypatch):
    """Fresh roster per text, one roster warm over all texts, and a memo bound of one word
    (emptied at every miss) give the same candidates; a text scanned for one recognizer and
    then another text for the other does not reuse the wrong scan."""
    from detectors.recognizers import roster as module

    fresh = [_candidates(Roster.load(RosterSettings(path=roster_file), hasher), hasher, t)
             for t in _SCAN_TEXTS]
    assert fresh[0][0] and fresh[1][1]  # the texts do hold roster names and first names
    warm = Roster.load(RosterSettings(path=roster_file), hasher)
    assert [_candidates(warm, hasher, t) for t in _SCAN_TEXTS * 2] == fresh * 2
    monkeypatch.setattr(module, "_MISSES_MAX", 1)
    tiny = Roster.load(RosterSettings(path=roster_file), hasher)
    assert [_candidates(tiny, hasher, t) for t in _SCAN_TEXTS] == fresh
    assert len(tiny.scan.misses) <= 1
    names, first = RosterNameRecognizer(tiny, hasher), module.RosterFirstNameRecognizer(tiny, hasher)
    for text, other in zip(_SCAN_TEXTS, _SCAN_TEXTS[1:] + _SCAN_TEXTS[:1], strict=True):
        assert list(names.candidates(text)) == fresh[_SCAN_TEXTS.index(text)][0]
        assert list(first.candidates(other)) == fresh[_SCAN_TEXTS.index(other)][1]
