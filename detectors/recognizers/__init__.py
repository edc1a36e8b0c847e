"""Dutch recognizers for Presidio, one small module each (in the spirit of python-stdnum)."""

from detectors.recognizers.address import DutchAddressRecognizer
from detectors.recognizers.birthdate import BirthDateRecognizer
from detectors.recognizers.bsn import BsnRecognizer
from detectors.recognizers.category_terms import CategoryTermRecognizer
from detectors.recognizers.email import OfflineEmailRecognizer
from detectors.recognizers.iban import IbanRecognizer
from detectors.recognizers.id_document import IdDocumentRecognizer
from detectors.recognizers.names import NameLexiconRecognizer
from detectors.recognizers.onderwijsnummer import OnderwijsnummerRecognizer
from detectors.recognizers.phone import DutchPhoneRecognizer
from detectors.recognizers.roster import (
    RosterFirstNameRecognizer,
    RosterNameRecognizer,
    RosterNumberRecognizer,
)
from detectors.recognizers.student_number import StudentNumberRecognizer

__all__ = [
    "BirthDateRecognizer",
    "BsnRecognizer",
    "CategoryTermRecognizer",
    "DutchAddressRecognizer",
    "DutchPhoneRecognizer",
    "IbanRecognizer",
    "IdDocumentRecognizer",
    "NameLexiconRecognizer",
    "OfflineEmailRecognizer",
    "OnderwijsnummerRecognizer",
    "RosterFirstNameRecognizer",
    "RosterNameRecognizer",
    "RosterNumberRecognizer",
    "StudentNumberRecognizer",
]
