"""Bookkeeping of every sensitive value the generator writes into the corpus.

Tests use it to grep outputs (the store, logs, reports) for leaks and to check recall. Values are
recorded at the moment they are written, so the lists hold exactly what is in the corpus, no
more. Canonical forms: digits only for BSN, onderwijsnummer and phone, compact IBAN, ISO dates
for birth dates; :meth:`PlantedValues.grep_terms` adds the textual forms used in the corpus.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from scanner.demo.people import Parent, Student, format_bsn, format_phone


@dataclass(frozen=True)
class PlantedValues:
    """Every sensitive value present somewhere in the corpus (sorted, deduplicated)."""

    bsns: list[str]
    onderwijsnummers: list[str]
    student_names: list[str]
    parent_names: list[str]
    phones: list[str]
    emails: list[str]
    ibans: list[str]
    birth_dates: list[str]
    addresses: list[str]
    postcodes: list[str]
    decoy_numbers: list[str] = field(default_factory=list)
    """Not sensitive: invoice, customer and ticket numbers that pass the 11-proef. A correct
    detector does not report them as BSN; they are here so tests can check exactly that."""

    def grep_terms(self) -> Iterator[str]:
        """Each sensitive value in every textual form the corpus uses (not the decoys)."""
        for value in self.bsns + self.onderwijsnummers:
            for style in range(4):
                yield format_bsn(value, style)
        for value in self.phones:
            for style in range(4):
                yield format_phone(value, style)
        for iso in self.birth_dates:
            d = date.fromisoformat(iso)
            yield iso
            yield d.strftime("%d-%m-%Y")
        yield from self.student_names
        yield from self.parent_names
        yield from self.emails
        yield from self.ibans
        yield from self.addresses
        yield from self.postcodes


class Planter:
    """Collects values while the corpus is written (sets: bounded by the population size)."""

    def __init__(self) -> None:
        self.bsns: set[str] = set()
        self.onderwijsnummers: set[str] = set()
        self.student_names: set[str] = set()
        self.parent_names: set[str] = set()
        self.phones: set[str] = set()
        self.emails: set[str] = set()
        self.ibans: set[str] = set()
        self.birth_dates: set[str] = set()
        self.addresses: set[str] = set()
        self.postcodes: set[str] = set()
        self.decoys: set[str] = set()

    # Each helper records the value and returns the text to write, so a value cannot be
    # written without being recorded.
    def name(self, student: Student) -> str:
        self.student_names.add(student.name)
        return student.name

    def pgn(self, student: Student, style: int = 0) -> str:
        if student.bsn:
            self.bsns.add(student.bsn)
        elif student.onderwijsnummer:
            self.onderwijsnummers.add(student.onderwijsnummer)
        return format_bsn(student.pgn, style)

    def birth(self, student: Student, fmt: str = "%d-%m-%Y") -> str:
        self.birth_dates.add(student.birth.isoformat())
        return student.birth.strftime(fmt)

    def address(self, student: Student) -> str:
        self.addresses.add(student.address.line())
        self.postcodes.add(student.address.postcode)
        return student.address.line()

    def parent(self, parent: Parent) -> str:
        self.parent_names.add(parent.name)
        return parent.name

    def phone(self, parent: Parent, style: int = 0) -> str:
        self.phones.add(parent.phone)
        return format_phone(parent.phone, style)

    def email(self, parent: Parent) -> str:
        self.emails.add(parent.email)
        return parent.email

    def iban(self, parent: Parent) -> str:
        self.ibans.add(parent.iban)
        return parent.iban

    def decoy(self, number: str) -> str:
        self.decoys.add(number)
        return number

    def freeze(self) -> PlantedValues:
        return PlantedValues(
            bsns=sorted(self.bsns),
            onderwijsnummers=sorted(self.onderwijsnummers),
            student_names=sorted(self.student_names),
            parent_names=sorted(self.parent_names),
            phones=sorted(self.phones),
            emails=sorted(self.emails),
            ibans=sorted(self.ibans),
            birth_dates=sorted(self.birth_dates),
            addresses=sorted(self.addresses),
            postcodes=sorted(self.postcodes),
            decoy_numbers=sorted(self.decoys),
        )
