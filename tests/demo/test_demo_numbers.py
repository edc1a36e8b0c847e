"""Planted numbers are valid (so detectors have something real to find) and fictional."""

from __future__ import annotations

import random
import re
from datetime import date

from stdnum import iban
from stdnum.nl import bsn, onderwijsnummer

from scanner.demo import DemoCorpus
from scanner.demo.people import format_bsn, make_bsn, make_eleven_proof_number, make_onderwijsnummer


def test_planted_bsns_pass_the_eleven_test_and_lie_in_the_test_range(demo: DemoCorpus) -> None:
    assert len(demo.planted.bsns) > 100
    for value in demo.planted.bsns:
        assert bsn.is_valid(value), value
        assert value.startswith("9999"), "BSNs come from the test range, never a real person's"


def test_planted_onderwijsnummers_are_valid_and_not_bsns(demo: DemoCorpus) -> None:
    assert demo.planted.onderwijsnummers, "some students have an onderwijsnummer instead of a BSN"
    for value in demo.planted.onderwijsnummers:
        assert onderwijsnummer.is_valid(value), value
        assert value.startswith("10")
        assert not bsn.is_valid(value)


def test_decoy_numbers_pass_the_eleven_test_but_are_not_student_numbers(demo: DemoCorpus) -> None:
    assert len(demo.planted.decoy_numbers) >= 5
    students = set(demo.planted.bsns) | set(demo.planted.onderwijsnummers)
    for value in demo.planted.decoy_numbers:
        assert bsn.is_valid(value), "a hard negative must look exactly like a BSN"
        assert value not in students


def test_other_planted_values_are_well_formed(demo: DemoCorpus, ) -> None:
    p = demo.planted
    assert p.ibans and all(iban.is_valid(v) and v.startswith("NL") for v in p.ibans)
    assert p.phones and all(re.fullmatch(r"06\d{8}", v) for v in p.phones)
    assert p.postcodes and all(re.fullmatch(r"[1-9]\d{3} [A-Z]{2}", v) for v in p.postcodes)
    assert p.emails and all(v.split("@")[1] in {"example.com", "example.org", "example.net"} for v in p.emails)
    for iso in p.birth_dates:
        assert date(2004, 1, 1) <= date.fromisoformat(iso) <= date(2023, 1, 1)
    assert len(p.student_names) > 100 and len(p.parent_names) > 50 and p.addresses


def test_generators_cover_many_seeds() -> None:
    rng = random.Random(1)
    for _ in range(2000):
        assert bsn.is_valid(make_bsn(rng))
        assert onderwijsnummer.is_valid(make_onderwijsnummer(rng))
        decoy = make_eleven_proof_number(rng)
        assert bsn.is_valid(decoy) and not decoy.startswith("9999")


def test_bsn_formats_seen_in_the_wild() -> None:
    assert [format_bsn("123456782", s) for s in range(4)] == [
        "123456782", "1234.56.782", "123 456 782", "123-456-782"]


def test_grep_terms_include_every_format(demo: DemoCorpus) -> None:
    terms = set(demo.planted.grep_terms())
    value = demo.planted.bsns[0]
    assert {format_bsn(value, s) for s in range(4)} <= terms
    assert not set(demo.planted.decoy_numbers) & terms
