"""NL_BSN: shapes, 11-proef and context scoring."""

from __future__ import annotations

import pytest

from detectors.recognizers.bsn import BsnRecognizer, is_bsn
from tests.detectors.conftest import above, scored

VALID = "123456782"  # passes the 11-proef
INVALID = "123456789"


@pytest.fixture(scope="module")
def rec():
    return BsnRecognizer()


def test_eleven_proof():
    assert is_bsn(VALID)
    assert not is_bsn(INVALID)
    assert not is_bsn("000000000")


@pytest.mark.parametrize("shape", ["123456782", "1234.56.782", "123 456 782", "123-456-782"])
def test_all_notations_found_with_keyword(rec, shape):
    assert above(rec, f"BSN: {shape}") == [shape]
    assert above(rec, f"Het burgerservicenummer van de leerling is {shape}.") == [shape]


@pytest.mark.parametrize("word", ["factuurnummer", "klantnummer", "ordernummer", "bestelnummer",
                                  "rekeningnummer", "KvK"])
def test_negative_context_pushes_below_threshold(rec, word):
    assert above(rec, f"{word}: {VALID}") == []
    assert above(rec, f"Uw {word} is 1234.56.782") == []


def test_nearest_keyword_wins(rec):
    text = f"BSN-nummers staan in de bijlage. Factuurnummer {VALID}"
    assert above(rec, text) == []
    text = f"Factuur volgt later. BSN leerling: {VALID}"
    assert above(rec, text) == [VALID]


def test_bare_number_stays_below_threshold(rec):
    [(value, score)] = scored(rec, f"Het nummer {VALID} staat hier zomaar.")
    assert value == VALID and 0.4 <= score < 0.5


def test_invalid_checksum_is_no_candidate(rec):
    assert scored(rec, f"BSN: {INVALID}") == []


def test_student_words_and_document_cue_lift_a_bare_number(rec):
    assert above(rec, f"Leerling Sanne, nummer {VALID}") == [VALID]
    text = "Hieronder de BSN's van de nieuwe groep.\n" + "x " * 60 + f"\n1. {VALID}"
    assert above(rec, text) == [VALID]


def test_column_header_from_part_context(rec):
    assert above(rec, f"Sanne de Vries\t{VALID}\t12-03-2012", context=["Naam", "BSN", "Geboortedatum"]) == [VALID]
    assert above(rec, f"Jansen BV\t{VALID}", context=["Naam", "Klantnummer"]) == []


def test_header_line_in_csv_text_maps_cells(rec):
    rows = "\n".join(f"Kind {i};{VALID};{VALID}" for i in range(3))
    text = "Naam;Klantnummer;BSN\n" + rows
    found = scored(rec, text)
    # the BSN column is lifted, the Klantnummer column pushed down
    assert [s for _, s in found].count(0.9) == 3
    assert len([s for _, s in found if s < 0.5]) == 3


def test_not_part_of_longer_numbers_or_codes(rec):
    assert scored(rec, f"ref{VALID}") == []
    assert scored(rec, f"{VALID}1") == []
    assert scored(rec, f"NL91ABNA0{VALID}") == []
    assert scored(rec, "tel 123 456 782 12") == []


def test_eight_digit_needs_keyword(rec):
    eight = "12345611"  # 012345611 passes the 11-proef
    assert is_bsn(eight)
    assert above(rec, f"leerling nummer {eight}") == []
    assert above(rec, f"BSN {eight}") == [eight]
    assert not is_bsn("20120312")  # a date, never a BSN


def test_scanning_number_runs_only_finds_what_a_whole_text_scan_finds():
    # checked_candidates with the BSN runs must give exactly the candidates of the patterns run
    # over the whole text: same spans, same order, same overlap decisions
    import random

    from detectors.recognizers import bsn
    from detectors.recognizers.base import checked_candidates, number_runs

    rng = random.Random(21)
    pieces = ["123456782", "1234.56.782", "123 456 782", "123-456-782", "12345674", "0", "9",
              " ", ".", "-", "/", "a", "BSN ", "\n", "+", "@", "1", "12", "123 456 782 1", "١٢٣"]
    for _ in range(4000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 14)))
        whole = list(checked_candidates(text, bsn._PATTERNS, bsn.is_bsn))
        runs = list(checked_candidates(text, bsn._PATTERNS, bsn.is_bsn, number_runs(bsn._RUNS, text)))
        assert runs == whole, text
