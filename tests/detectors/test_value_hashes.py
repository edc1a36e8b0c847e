"""Pinned keyed hashes: installed databases hold ``value_hash`` values computed by earlier
releases, and counting/matching across runs only works while every value hashes exactly as it
did. These figures were computed with the code before the canonical forms moved to
python-stdnum's ``compact()``; a refactoring that changes any of them breaks installations."""

from __future__ import annotations

import pytest

from detectors import entities as E
from detectors.canonical import canonical
from scanner.core.privacy import ValueHasher
from tests.detectors.conftest import body

PINNED = [
    (E.NL_BSN, "123456782", "f2aca3f65fc677f426617e83fb9a897e"),
    (E.NL_BSN, "1234.56.782", "f2aca3f65fc677f426617e83fb9a897e"),
    (E.NL_BSN, "123 456 782", "f2aca3f65fc677f426617e83fb9a897e"),
    (E.NL_BSN, "123-456-782", "f2aca3f65fc677f426617e83fb9a897e"),
    (E.NL_BSN, "12345674", "babae16ab7c4c0fe7e63335cc6f29d12"),
    (E.NL_ONDERWIJSNUMMER, "1012.34.567", "f6aa03ad0652d4347bddc4326cf50d92"),
    (E.NL_ONDERWIJSNUMMER, "101234567", "f6aa03ad0652d4347bddc4326cf50d92"),
    (E.IBAN_CODE, "NL91 ABNA 0417 1643 00", "5a30144c9121144cab4f75ba200083cd"),
    (E.IBAN_CODE, "nl91abna0417164300", "5a30144c9121144cab4f75ba200083cd"),
    (E.NL_ID_DOCUMENT, "XR1001R58", "bf9816124d5d6d519b7199ac4f1e8f4f"),
    (E.PHONE_NUMBER, "06-12345678", "c5e5b58f7ec3311560b999262b58dd2d"),
    (E.PHONE_NUMBER, "+31 6 1234 5678", "c5e5b58f7ec3311560b999262b58dd2d"),
    (E.EMAIL_ADDRESS, "J.Jansen@School.NL", "8829540c32074605e1ab9c08b04ac457"),
    (E.PERSON, "Jan  de\nVries", "bd79634d18f302f6a88a55ae0166c646"),
    (E.NL_ADDRESS, "Kerkstraat 12\n1234 AB  Utrecht", "e31a4e94d25b2ee3372969fbc3dbc042"),
    (E.NL_ADDRESS, "1234AB", "9ffc175fad09a7f04ec116e243a07fa9"),
    (E.STUDENT_ROSTER, "Anna   Bakker", "ca39e1a961a76127a3b5ada30e744e51"),
    (E.NL_LEERLINGNUMMER, "LL-20231", "b81171550994a823681b7c170c5d0f30"),
    (E.DATE_OF_BIRTH, "12-03-2015", "49f13742486ba4e16e41a406d60c06e7"),
    (E.LOCATION, "Den  Haag", "c132e17d5248bce0c744833e87d13834"),
]


@pytest.mark.parametrize(("entity", "value", "expected"), PINNED)
def test_canonical_value_hashes_are_unchanged(entity, value, expected):
    hasher = ValueHasher(bytes(range(32)))
    assert hasher.hash(entity, canonical(entity, value)) == expected


def test_text_and_owner_hashes_are_unchanged():
    hasher = ValueHasher(bytes(range(32)))
    assert hasher.hash_text("Anna Bakker") == "6e16eddf6151a91a528d971989f1e27c"
    assert hasher.hash("OWNER", "Jansen@School.nl") == "907b9e8e677c5452d8d079479ca78cd7"
    assert hasher.hash(E.STUDENT_ROSTER, "12345") == "8669ad274a40152fd1fe0f26c04d0a5e"


TEXT = """Beste collega,

De leerling Sanne de Vries uit groep 7 (BSN 1234.56.782, onderwijsnummer 1012.34.564) woont op Kerkstraat 12, 1234 AB Utrecht.
Haar paspoort XR1001R58 ligt bij de administratie. Ouders bereikbaar op 06-12345678 of ouder.devries@example.nl, IBAN NL91 ABNA 0417 1643 00.
Ze heeft dyslexie en een OPP.
"""

FINDINGS = [
    ("PERSON", "Sanne de Vries", "a44510a323b5d7e17cd48db8b3e47428"),
    ("NL_BSN", "1234.56.782", "d3cbaf5fcc3da7eae360567241cd08ef"),
    ("NL_ONDERWIJSNUMMER", "1012.34.564", "44c0c04023fd845ff03355039647d279"),
    ("NL_ADDRESS", "Kerkstraat 12, 1234 AB Utrecht", "b64c6d575bbc7d0db23d04c01a97319d"),
    ("NL_ID_DOCUMENT", "XR1001R58", "6a83e0b12a80f97206e27d1bcafd5801"),
    ("PHONE_NUMBER", "06-12345678", "9589580e169adfbc2119ae6c677d1c1f"),
    ("EMAIL_ADDRESS", "ouder.devries@example.nl", "1800bf2cb0b1d483133b69644f430367"),
    ("IBAN_CODE", "NL91 ABNA 0417 1643 00", "fa959ed9b495370875a297ad7393b5da"),
    ("CATEGORY_TERM", "dyslexie", "200233f522d0086225a5bc48f13f3873"),
    ("CATEGORY_TERM", "OPP", "ff09477fa02d173e084f0e8ccb14c768"),
]


def test_detector_finding_hashes_are_unchanged(detector):
    verdict = detector.analyze(body(TEXT))
    got = {(f.entity, TEXT[f.start : f.end], f.value_hash) for f in verdict.findings}
    assert set(FINDINGS) <= got
