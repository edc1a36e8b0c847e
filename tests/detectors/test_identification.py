"""DATE_OF_BIRTH, NL_ID_DOCUMENT and NL_LEERLINGNUMMER: context-gated recognizers."""

from __future__ import annotations

import pytest

from detectors.recognizers.birthdate import BirthDateRecognizer
from detectors.recognizers.id_document import IdDocumentRecognizer
from detectors.recognizers.student_number import StudentNumberRecognizer, compile_student_pattern
from tests.detectors.conftest import above


@pytest.mark.parametrize("date", ["12-03-2012", "2-3-2012", "12/03/2012", "2012-03-12",
                                  "12 maart 2012", "3 mrt. 2012"])
def test_birth_dates_need_context(date):
    rec = BirthDateRecognizer()
    assert above(rec, f"Geboortedatum: {date}") == [date]
    assert above(rec, f"geboren op {date} in Utrecht") == [date]
    assert above(rec, f"De vergadering is op {date}.") == []


def test_birth_date_from_column_header_and_validity():
    rec = BirthDateRecognizer()
    assert above(rec, "Sanne\t12-03-2012", context=["Naam", "Geboortedatum"]) == ["12-03-2012"]
    assert above(rec, "geboren 31-02-2012") == []  # no such day
    assert above(rec, "geboren 12-03-1850") == []  # not a living person


def test_id_document_numbers():
    rec = IdDocumentRecognizer()
    assert above(rec, "Paspoortnummer: SPECI2014") == ["SPECI2014"]
    assert above(rec, "kopie ID-kaart, documentnummer IR7K2LP44") == ["IR7K2LP44"]
    assert above(rec, "Artikel ABC123456 op voorraad") == []
    assert above(rec, "paspoort OO1234567") == []  # the letter O is never used
    assert above(rec, "paspoort ABCDEFGH1") == []  # needs a digit inside


def test_student_number_pattern():
    rec = StudentNumberRecognizer(r"\b\d{6}\b")
    assert above(rec, "Leerlingnummer: 123456") == ["123456"]
    assert above(rec, "llnr 654321") == ["654321"]
    assert above(rec, "Het bedrag is 123456 euro") == []


def test_bad_student_pattern_is_a_clear_error():
    with pytest.raises(ValueError, match="geen geldige reguliere expressie"):
        compile_student_pattern("(")
    with pytest.raises(ValueError, match="lege tekst"):
        compile_student_pattern(r"\d*")
