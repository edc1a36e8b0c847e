"""The canonical form of each kind of detected value: what the keyed hash is computed over.

One BSN written as ``1234.56.782``, ``123 456 782`` or ``123456782`` must hash alike, or the
same pupil counts three times and matching across runs fails. Each value type has exactly one
canonical form, defined here, and python-stdnum's ``compact()`` is used wherever stdnum knows
the type (BSN, onderwijsnummer, IBAN, postcode, ID-card number), so our notion of "the same
number" is the maintained one.

:meth:`scanner.core.privacy.ValueHasher.hash` then applies :func:`scanner.core.privacy.normalise`
to every value (case-fold, keep only ``a-z0-9@.``). The two steps together decide the hash,
and installed databases hold hashes computed this way: a change to either is a change of every
stored hash (``tests/detectors/test_value_hashes.py`` pins them).
"""

from __future__ import annotations

import re

from stdnum import iban
from stdnum.nl import bsn, identiteitskaartnummer, onderwijsnummer, postcode

from detectors import entities as E
from detectors.recognizers.phone import national_digits

_WHOLE_POSTCODE = re.compile(r"\s*[1-9]\d{3} ?[A-Za-z]{2}\s*")
_WHITESPACE_JOINED = frozenset({E.PERSON, E.STUDENT_ROSTER, E.LOCATION})


def canonical(entity: str, value: str) -> str:
    """The form ``value`` (found as ``entity``) is hashed in.

    * BSN: stdnum's compact form, zero-padded to 9 digits (an old 8-digit BSN is the same
      number with a leading zero); onderwijsnummer likewise.
    * Leerlingnummer (the school's own pattern): its digits.
    * Phone: the national 10-digit form (``+31 6 ...`` and ``06-...`` alike).
    * IBAN and ID-card / passport numbers: stdnum's compact upper-case form.
    * Address: white space collapsed; a bare postcode in stdnum's compact form.
    * Names and places: white space collapsed (case is folded by the hasher).
    * Anything else (e-mail, dates, category terms): as found.
    """
    if entity == E.NL_BSN:
        return bsn.compact(value)
    if entity == E.NL_ONDERWIJSNUMMER:
        return onderwijsnummer.compact(value)
    if entity == E.NL_LEERLINGNUMMER:
        return re.sub(r"\D", "", value)
    if entity == E.PHONE_NUMBER:
        return national_digits(value) or re.sub(r"\D", "", value)
    if entity == E.IBAN_CODE:
        return iban.compact(value)
    if entity == E.NL_ID_DOCUMENT:
        return identiteitskaartnummer.compact(value)
    if entity == E.NL_ADDRESS:
        if _WHOLE_POSTCODE.fullmatch(value):
            return postcode.compact(value)
        return " ".join(value.split())
    if entity in _WHITESPACE_JOINED:
        return " ".join(value.split())
    return value
