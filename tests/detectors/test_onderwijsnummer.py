"""NL_ONDERWIJSNUMMER: starts with 10, weighted sum 5 mod 11, context decides."""

from __future__ import annotations

import pytest

from detectors.recognizers.bsn import is_bsn
from detectors.recognizers.onderwijsnummer import OnderwijsnummerRecognizer, is_onderwijsnummer
from tests.detectors.conftest import above, scored

VALID = "101222331"


@pytest.fixture(scope="module")
def rec():
    return OnderwijsnummerRecognizer()


def test_check():
    assert is_onderwijsnummer(VALID)
    assert not is_onderwijsnummer("101222332")
    assert not is_onderwijsnummer("201222331")  # must start with 10
    assert not is_bsn(VALID)  # the two checks exclude each other


@pytest.mark.parametrize("shape", ["101222331", "1012.22.331", "101 222 331", "101-222-331"])
def test_notations_with_context(rec, shape):
    assert above(rec, f"Onderwijsnummer: {shape}") == [shape]
    assert above(rec, f"PGN {shape}") == [shape]


def test_negative_and_bare(rec):
    assert above(rec, f"factuurnummer {VALID}") == []
    [(_, score)] = scored(rec, f"zomaar {VALID} ergens")
    assert score < 0.5
