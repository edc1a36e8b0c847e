"""The speed-ups in scanner/core/privacy.py (issue 21) give the bytes of their plain forms.

``ValueHasher.hash`` keys two SHA-256 states once and copies them per value instead of calling
``hmac.digest``; ``mask`` looks for a digit before removing the non-digits. Stored hashes and
masked samples depend on both, so each is compared with its old definition on generated input.
"""

from __future__ import annotations

import hmac
import pickle
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.core.privacy import ValueHasher, mask, normalise

_ENTITIES = st.sampled_from(["PERSON", "NL_BSN", "EMAIL_ADDRESS", "IBAN_CODE", "TEXT", "", "x\x00y"])
# digits of other scripts (Arabic-Indic, fullwidth, Devanagari) are \d too
_VALUES = st.text() | st.text(alphabet="aZ09 .@-_ë\t\n\u0663\uff13\u0967*")


def _old_hash(secret: bytes, entity: str, value: str) -> str:
    return hmac.digest(secret, f"{entity}\x00{normalise(value)}".encode(), "sha256").hex()[:32]


@settings(max_examples=1500, deadline=None)
@given(st.binary(min_size=16, max_size=200), _ENTITIES, _VALUES)
def test_hash_is_hmac_sha256_of_entity_and_normalised_value(secret: bytes, entity: str,
                                                             value: str) -> None:
    # keys shorter than, equal to and longer than SHA-256's 64-byte block (hashed first)
    hasher = ValueHasher(secret)
    assert hasher.hash(entity, value) == _old_hash(secret, entity, value)
    assert hasher.hash(entity, value) == _old_hash(secret, entity, value)  # states not used up


def test_hash_at_the_block_size_edges_and_after_pickling() -> None:
    for size in (16, 32, 63, 64, 65, 128):
        secret = bytes(range(size))
        hasher = ValueHasher(secret)
        copy = pickle.loads(pickle.dumps(hasher))
        for entity, value in [("NL_BSN", "123456782"), ("PERSON", "Jan Jansen"), ("TEXT", "")]:
            assert hasher.hash(entity, value) == copy.hash(entity, value) == _old_hash(secret, entity, value)
        assert hasher.hash_text("Jan") == _old_hash(secret, "TEXT", "Jan")


_NON_DIGIT = re.compile(r"\D")


def _old_mask(value: str, entity: str | None = None) -> str:
    """mask before issue 21's digit check (verbatim)."""
    stripped = value.strip()
    if not stripped:
        return ""
    if entity == "EMAIL_ADDRESS" and "@" in stripped:
        local, _, domain = stripped.partition("@")
        tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
        return f"{local[:1]}***@***.{tld}" if tld else f"{local[:1]}***@***"
    digits = _NON_DIGIT.sub("", stripped)
    if len(digits) >= 8 and len(digits) >= len(stripped) * 0.6:
        return "*" * (len(digits) - 4) + digits[-4:]
    if entity in {"IBAN_CODE"} and len(stripped) > 8:
        return stripped[:2] + "*" * (len(stripped) - 6) + stripped[-4:]
    if len(digits) >= 4 and len(digits) >= len(stripped) * 0.6:
        return "*" * (len(digits) - 2) + digits[-2:]
    return stripped[:1] + "*" * max(len(stripped) - 1, 2)


@settings(max_examples=3000, deadline=None)
@given(_VALUES | st.text(alphabet="0123456789 .-\u0663", max_size=14),
       st.none() | _ENTITIES)
def test_mask_is_the_old_mask(value: str, entity: str | None) -> None:
    assert mask(value, entity) == _old_mask(value, entity)


def test_mask_edge_cases() -> None:
    for value in ["Jan", "123456782", "\u0663\u0663\u0663\u0663", "06-12345678", "a1", "NL91ABNA0417164300",
                  "j.jansen@school.nl", "  ", "x\u0967\u0967\u0967\u0967y"]:
        for entity in (None, "PERSON", "IBAN_CODE", "EMAIL_ADDRESS"):
            assert mask(value, entity) == _old_mask(value, entity)
