"""The digest's masking of names and values in titles, folders and shown paths: it masks
exactly the runs of words whose keyed hash an item's findings hold."""

from __future__ import annotations

from detectors.canonical import canonical
from scanner.core.privacy import ValueHasher
from scanner.digest_mask import mask_found

HASHER = ValueHasher(b"k" * 32)


def found(*pairs: tuple[str, str]) -> set[tuple[str, str]]:
    return {(entity, HASHER.hash(entity, canonical(entity, value))) for entity, value in pairs}


def test_a_found_name_is_masked_word_by_word_and_the_rest_stays():
    hashes = found(("PERSON", "Esmee Huisman"))
    assert mask_found("Onderwijskundig rapport Esmee Huisman (67).eml", hashes, HASHER) == \
        "Onderwijskundig rapport E*** H*** (67).eml"
    # case and white space as the hasher normalises them; other names are not touched
    assert mask_found("esmee  HUISMAN en Daan", hashes, HASHER) == "e***  H*** en Daan"


def test_numbers_in_any_notation_and_paths_are_masked():
    hashes = found(("NL_BSN", "111222333"), ("STUDENT_ROSTER", "Amira Öztürk"))
    assert mask_found(r"\\server\zorg\Dossier Amira Öztürk\bsn 1112.22.333.docx", hashes, HASHER) == \
        r"\\server\zorg\Dossier A*** Ö***\bsn *****2333.docx"


def test_nothing_found_nothing_masked_and_vocabulary_stays():
    assert mask_found("Handelingsplan Amira", set(), HASHER) == "Handelingsplan Amira"
    hashes = found(("CATEGORY_TERM", "OPP"))
    assert mask_found("OPP groep 7", hashes, HASHER) == "OPP groep 7"
