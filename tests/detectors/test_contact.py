"""PHONE_NUMBER, IBAN_CODE, EMAIL_ADDRESS, NL_ADDRESS recognizers."""

from __future__ import annotations

import socket

import pytest

from detectors.recognizers.address import DutchAddressRecognizer
from detectors.recognizers.email import OfflineEmailRecognizer
from detectors.recognizers.iban import IbanRecognizer
from detectors.recognizers.phone import DutchPhoneRecognizer, national_digits
from tests.detectors.conftest import above


@pytest.mark.parametrize("number", ["06-12345678", "06 12 34 56 78", "0612345678", "+31 6 12345678",
                                    "+31 (0)20 123 4567", "0031 30 1234567", "030-1234567",
                                    "0591-123456", "(020) 123 45 67"])
def test_dutch_phone_numbers(number):
    assert above(DutchPhoneRecognizer(), f"Bel mij op {number} als er iets is.") == [number]


@pytest.mark.parametrize("text", ["123456782", "12-03-2012", "NL91 ABNA 0417 1643 00 is het",
                                  "06-1234567", "0012345678", "bestelling 2024-0001234"])
def test_not_phone_numbers(text):
    assert above(DutchPhoneRecognizer(), text) == []


def test_national_digits():
    assert national_digits("+31 (0)6 1234 5678") == "0612345678"
    assert national_digits("0800-1234") is None


def test_iban_checked_and_spaced():
    rec = IbanRecognizer()
    assert above(rec, "IBAN: NL91 ABNA 0417 1643 00 t.n.v. school") == ["NL91 ABNA 0417 1643 00"]
    assert above(rec, "rekening NL91ABNA0417164300.") == ["NL91ABNA0417164300"]
    assert above(rec, "NL91 ABNA 0417 1643 01") == []  # mod-97 fails
    assert above(rec, "BE71 0961 2345 6769 en verder") == ["BE71 0961 2345 6769"]


def test_email_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network used / netwerk gebruikt")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    rec = OfflineEmailRecognizer()
    text = "Mail naar s.devries@ziggo.nl of ouder+school@gmail.com, niet naar foo@bar of @home."
    assert above(rec, text) == ["s.devries@ziggo.nl", "ouder+school@gmail.com"]


def test_address_with_street_and_city():
    rec = DutchAddressRecognizer()
    assert above(rec, "Adres: Kerkstraat 12a\n1234 AB Utrecht\n") == ["Kerkstraat 12a\n1234 AB Utrecht"]
    assert above(rec, "Zij woont op Julianalaan 7, 3511AB Utrecht.") == ["Julianalaan 7, 3511AB Utrecht"]
    assert above(rec, "postcode 1234 AB") == ["1234 AB"]


def test_address_negatives():
    rec = DutchAddressRecognizer()
    assert above(rec, "In 2024 EN 2025 gaan we verder") == []
    assert above(rec, "Kerkstraat 12 is mooi") == []  # a street alone needs address context
    assert above(rec, "We wonen nu op de Kerkstraat 12, dus nieuw adres") == ["Kerkstraat 12"]
    assert above(rec, "1234 SS") == []  # SS, SA, SD are never issued
