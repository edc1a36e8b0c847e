"""STUDENT_ROSTER: names and student numbers from the school's own student list.

The roster is the strongest signal there is (a name on it *is* a student), and the most
sensitive input schoonschip reads. So it is never held in clear after loading: every name
variant ("Sanne de Vries", "Vries, Sanne de", "de Vries Sanne", ...) and every student number is
turned into a keyed hash with the installation's :class:`~scanner.core.privacy.ValueHasher`, and the
text is matched by hashing token windows (1-4 tokens) the same way. Because the hasher's
normalisation drops spaces, commas and case, "De Vries, Sanne" and "de vries sanne" hash alike.

To keep the number of HMACs per text low, a window is only hashed when its first token passes a
cheap keyed filter: a set of 64-bit keyed BLAKE2b digests of the variants' first tokens, keyed
with a value derived from the installation secret (so no clear first names either, and nothing
that can be checked without the secret). BLAKE2b with a key is one C call, about ten times
cheaper than an HMAC through Python's ``hmac`` module.

Even the digest per token was the largest cost of detection with a roster, so a text's tokens
are scanned once for both name recognizers (:class:`_Scan`), and words already known *not* to
start a roster name are skipped without a digest. That memo holds only such misses, never a
word that is on the roster (see :class:`_Scan`).

Student numbers from the roster only count next to a student-number label (a 6-digit number is
too common to trust alone); names count without context (score 0.95). Birth dates are hashed
but not matched on their own: with a few hundred students nearly every date is someone's
birthday, so a date alone would flag every meeting invitation.
"""

from __future__ import annotations

import csv
import hashlib
import io
import operator
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import compress, count
from pathlib import Path
from typing import TypeAlias

from detectors.context import ContextRule
from detectors.entities import PERSON, STUDENT_ROSTER
from detectors.recognizers.base import DutchRecognizer, digit_runs
from detectors.recognizers.student_number import RULE as STUDENT_NUMBER_RULE
from detectors.settings import RosterSettings
from detectors.termlists import WORD_RE, word_starts, words_of
from scanner.core.dates import parse_school_date
from scanner.core.privacy import ValueHasher, normalise

_TOKEN = WORD_RE
_WINDOW_SEPARATORS = re.compile(r"[ \t,]*")
_NUMBER = re.compile(r"(?<![\w.\-])\d{3,12}(?![\w]|[.\-]\d)")
_MAX_TOKENS = 4
_MISSES_MAX = 65_536
"""Words per miss memo (~100 bytes each: some 7 MB at most), emptied when full."""
_Found: TypeAlias = "tuple[list[str], list[int], list[int], list[bytes]]"
"""A text's words, their start offsets, the indices of the words that pass the first-token
filter and their digests (see :meth:`_Scan.first_tokens`)."""


class RosterError(ValueError):
    """The roster file cannot be read; the message is Dutch first and names no content."""


@dataclass
class Roster:
    """Keyed hashes of the roster's name variants and student numbers, nothing in clear."""

    name_hashes: set[str] = field(default_factory=set)
    name_filter: set[bytes] = field(default_factory=set)
    """64-bit keyed digests (:func:`_digest`) of the name variants: a window is HMAC'd only
    when its digest is here, as a token only passes :attr:`first_token_filter` by its digest."""
    first_token_filter: set[bytes] = field(default_factory=set)
    prefix_bits: bytearray = field(default_factory=bytearray, repr=False)
    """A bitmap of the keyed digests of every normalised *prefix* of every name variant (see
    :meth:`may_continue`): a window that is no variant's prefix cannot grow into a variant."""
    filter_key: bytes = b""
    keyed: hashlib.blake2b = field(default_factory=lambda: _keyed(b""), repr=False, compare=False)
    """:func:`_keyed` of :attr:`filter_key`, set by :meth:`load` (a digest copies it)."""
    number_hashes: set[str] = field(default_factory=set)
    number_lengths: set[int] = field(default_factory=set)
    birth_date_hashes: set[str] = field(default_factory=set)
    first_name_hashes: set[str] = field(default_factory=set)
    """Roepnamen alone: a pupil is often named by first name only ("Daan was ziek"); they are a
    PERSON in a pupil context (:class:`RosterFirstNameRecognizer`), never a roster identity."""
    first_name_filter: set[bytes] = field(default_factory=set)
    """64-bit keyed digests (:func:`_digest`) of the roepnamen: a capitalised filter hit is
    HMAC'd for :attr:`first_name_hashes` only when its digest (from the scan) is here."""
    students: int = 0
    scan: _Scan = field(default_factory=lambda: _Scan(), repr=False, compare=False)
    """The token scan both name recognizers share (a memo of misses only, no roster value)."""

    @classmethod
    def load(cls, settings: RosterSettings, hasher: ValueHasher) -> Roster:
        """Read the roster (and the file of former pupils, when configured) and keep only
        hashes. Raises :class:`RosterError` when a file is unreadable."""
        key = filter_key(hasher)
        roster = cls(filter_key=key, keyed=_keyed(key))
        prefixes: set[bytes] = set()
        for row in _rows(settings):
            for tokens in row.variants:
                roster.name_hashes.add(hasher.hash_text(" ".join(tokens)))
                roster.name_filter.add(_digest(roster.filter_key, " ".join(tokens)))
                roster.first_token_filter.add(_digest(roster.filter_key, tokens[0]))
                full = normalise(" ".join(tokens))  # normalised text is its own normal form
                prefixes.update(_digest(roster.filter_key, full[:k]) for k in range(1, len(full) + 1))
            if row.number:
                roster.number_hashes.add(hasher.hash(STUDENT_ROSTER, row.number))
                roster.number_lengths.add(len(row.number))
            if row.birth:
                roster.birth_date_hashes.add(hasher.hash_text(row.birth))
            if len(row.first) >= 2:
                roster.first_name_hashes.add(hasher.hash_text(row.first))
                roster.first_token_filter.add(_digest(roster.filter_key, row.first))
                roster.first_name_filter.add(_digest(roster.filter_key, row.first))
            roster.students += 1
        roster.prefix_bits = _bitmap(prefixes)
        return roster

    def may_continue(self, digest: bytes) -> bool:
        """False when the window whose :func:`_digest` this is is certainly no prefix of a
        name variant, so no longer window from the same start can be one. Exact: the
        normalisation drops the separators between tokens, so a longer window's normalised
        text starts with this one's; a bitmap collision only means "maybe" (the window goes on,
        as it did before this filter)."""
        bits = self.prefix_bits
        if not bits:
            return True
        h = int.from_bytes(digest[:4], "little") & (len(bits) * 8 - 1)
        return bool(bits[h >> 3] & (1 << (h & 7)))


ENROLLED = "enrolled"
LEFT = "left"
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PupilLifecycle:
    """One roster row as retention needs it: the keys its findings carry, and whether (and
    when) the pupil left. No name, number or birth date, only keyed hashes."""

    keys: frozenset[str]
    """``hasher.hash(STUDENT_ROSTER, ...)`` of every name variant and the student number:
    exactly the ``value_hash`` a roster finding of this pupil is stored with."""
    status: str
    """``enrolled`` (on the roster, no leaving date), ``left`` (a leaving date) or ``unknown``
    (the roster carries no lifecycle columns, or the date could not be read)."""
    left: date | None = None
    bad_date: bool = False


def pupil_lifecycles(settings: RosterSettings, hasher: ValueHasher) -> Iterator[PupilLifecycle]:
    """Every pupil of the roster and of the former-pupils file with its lifecycle.

    A pupil in the main roster is ``enrolled`` when the file has an ``inschrijfdatum`` or
    ``uitschrijfdatum`` column and the leaving date is empty; a leaving date (also one in the
    future: the pupil is leaving) makes it ``left``. Every pupil of the former-pupils file has
    left; without a readable date its leaving day is ``unknown``. Raises :class:`RosterError`
    like :meth:`Roster.load`.
    """
    for row in _rows(settings):
        keys = {hasher.hash(STUDENT_ROSTER, " ".join(tokens)) for tokens in row.variants}
        if row.number:
            keys.add(hasher.hash(STUDENT_ROSTER, row.number))
        left = parse_school_date(row.left_text) if row.left_text else None
        bad = bool(row.left_text) and left is None
        if left is not None:
            status = LEFT
        elif row.former or bad or not row.has_lifecycle:
            status = UNKNOWN
        else:
            status = ENROLLED
        yield PupilLifecycle(frozenset(keys), status, left, bad)


@dataclass(slots=True)
class _Row:
    """One pupil while a file is read (clear values live only for the length of a row)."""

    variants: list[list[str]]
    first: str
    """The roepnaam (or the first voornaam) alone."""
    number: str
    birth: str
    left_text: str
    has_lifecycle: bool
    former: bool


def _rows(settings: RosterSettings) -> Iterator[_Row]:
    yield from _file_rows(settings.path, settings, former=False)
    if settings.former_path is not None:
        yield from _file_rows(settings.former_path, settings, former=True)


def _file_rows(path: Path, settings: RosterSettings, former: bool) -> Iterator[_Row]:
    which = ("oud-leerlingenlijst", "former-pupils list") if former else (
        "leerlingenlijst", "student roster")
    try:
        raw = path.read_bytes()
    except OSError:
        raise RosterError(
            f"{which[0]} kan niet gelezen worden (bestaat het bestand en mag het gelezen "
            f"worden?) / {which[1]} cannot be read"
        ) from None
    text = _decode(raw)
    del raw
    delimiter = settings.delimiter or _sniff(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().casefold() for h in next(reader)]
    except StopIteration:
        raise RosterError(f"{which[0]} is leeg / {which[1]} is empty") from None
    wanted = [c.casefold() for c in settings.name_columns]
    name_idx = {c: header.index(c) for c in wanted if c in header}
    if not name_idx:
        raise RosterError(
            f"{which[0]} heeft geen van de naamkolommen "
            f"({', '.join(settings.name_columns)}) / {which[1]} has none of the name columns"
        )
    number_idx = _index(header, settings.student_number_column)
    birth_idx = _index(header, settings.birth_date_column)
    left_idx = _index(header, settings.left_column)
    has_lifecycle = left_idx is not None or _index(header, settings.enrolled_column) is not None

    def cell(row: list[str], idx: int | None) -> str:
        return row[idx].strip() if idx is not None and idx < len(row) else ""

    for row in reader:
        if not any(c.strip() for c in row):
            continue
        cells = {c: row[i].strip() for c, i in name_idx.items() if i < len(row)}
        variants = []
        for variant in _name_variants(cells):
            tokens = _TOKEN.findall(variant)
            if tokens and len(tokens) <= _MAX_TOKENS:
                variants.append(tokens)
        given = cells.get("roepnaam") or cells.get("voornaam", "")
        yield _Row(
            variants=variants,
            first=(_TOKEN.findall(given) or [""])[0],
            number=re.sub(r"\D", "", cell(row, number_idx)),
            birth=cell(row, birth_idx),
            left_text=cell(row, left_idx),
            has_lifecycle=has_lifecycle,
            former=former,
        )
    del text


def filter_key(hasher: ValueHasher) -> bytes:
    """A key for the first-token filter, derived from (and as secret as) the HMAC secret."""
    return bytes.fromhex(hasher.hash("ROSTER_FILTER_KEY", "roster-filter-key"))


def _bitmap(digests: set[bytes]) -> bytearray:
    """A bitmap with one bit set per digest (its first 4 bytes modulo the size), 16 bits per
    digest rounded up to a power of two (~6 % of other digests hit a set bit): 2 bytes per
    prefix instead of a set entry of ~60 bytes."""
    size = 1024
    while size < 16 * len(digests):
        size *= 2
    bits = bytearray(size // 8)
    for digest in digests:
        h = int.from_bytes(digest[:4], "little") & (size - 1)
        bits[h >> 3] |= 1 << (h & 7)
    return bits


def _digest(key: bytes, token: str) -> bytes:
    return hashlib.blake2b(normalise(token).encode(), key=key, digest_size=8).digest()


def _keyed(key: bytes) -> hashlib.blake2b:
    """A BLAKE2b state with :func:`_digest`'s key and size: :func:`_digest_with` copies it."""
    return hashlib.blake2b(key=key, digest_size=8)


def _digest_with(keyed: hashlib.blake2b, token: str) -> bytes:
    """:func:`_digest` with the key already set up (``keyed`` from :func:`_keyed`).

    WHY: the digest per roster word (every occurrence, see :class:`_Scan`) and per window was a
    tenth of the roster scan; most of it was the constructor's keyword parsing and key set-up,
    and ``normalise``'s regex substitution. A copy of a keyed state gives the same digest. A
    word of ASCII letters and digits is its own normal form once lower-cased (casefold is
    lower for ASCII, and the filter keeps a-z and 0-9)."""
    if token.isascii() and token.isalnum():
        data = token.lower()
    else:
        data = normalise(token)
    hasher = keyed.copy()
    hasher.update(data.encode())
    return hasher.digest()


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _sniff(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (";", ",", "\t", "|")}
    best = max(counts, key=counts.get)  # type: ignore[arg-type]
    return best if counts[best] else ";"


def _index(header: list[str], column: str | None) -> int | None:
    if column is None:
        return None
    column = column.casefold()
    return header.index(column) if column in header else None


def _name_variants(cells: dict[str, str]) -> set[str]:
    """The ways a teacher writes a student's name, from the roster's name columns."""
    variants: set[str] = set()
    full = cells.get("naam", "")
    if full:
        variants.add(full.replace(",", " "))
        if "," in full:  # "Vries, Sanne de" -> "Sanne de Vries"
            last, _, rest = full.partition(",")
            parts = rest.split()
            given = [p for p in parts if p[:1].isupper()]
            tv = [p for p in parts if not p[:1].isupper()]
            variants.add(" ".join([*given, *tv, last.strip()]))
            if given:
                variants.add(" ".join([given[0], *tv, last.strip()]))
    infix = cells.get("tussenvoegsel", "")
    surname = cells.get("achternaam", "")
    for first_col in ("roepnaam", "voornaam"):
        first = cells.get(first_col, "")
        if not first or not surname:
            continue
        for name in {first, first.split()[0]}:
            variants.add(" ".join(p for p in (name, infix, surname) if p))
            variants.add(" ".join(p for p in (name, surname) if p))
            variants.add(" ".join(p for p in (infix, surname, name) if p))
            variants.add(" ".join(p for p in (surname, name, infix) if p))
            variants.add(" ".join(p for p in (surname, infix, name) if p))  # LAS column order
    return {v for v in variants if v.strip()}


class _Scan:
    """The tokens of a text that can start a roster name, found once for both name recognizers.

    Why: a keyed digest of every token was the largest single cost of detection with a roster
    (a quarter of it under cProfile), and the roster-name and first-name recognizers computed
    it twice for the same tokens. :meth:`first_tokens` finds the tokens once per text (the two
    recognizers run one after the other on the same text object) and skips, without a digest,
    every word already known to pass no filter: one C-level pass (``map``/``compress``) leaves
    Python only the new words and the words that do start a roster name.

    Privacy: the memo (``misses``) holds *misses only*: words of texts that start no roster
    name (their digest is not in the filter, or they are too short or a number). A word that
    passes the filter (a roster first name, surname or tussenvoegsel) is never kept: it is
    digested again at every occurrence, so the memo cannot be read as a list of roster names.
    Memos of the window hashes or first-name hashes were left out for the same reason: their
    misses start with a roster word. In process memory only (never stored, logged or reported),
    like the name recognizer's piece cache; bounded (:data:`_MISSES_MAX`) and emptied when full;
    results do not depend on what it holds. It assumes, as everything here does, that a roster
    is not changed after :meth:`Roster.load`. The last text's tokens are kept until the next
    text, as the table-header cache of :mod:`detectors.recognizers.base` keeps its text.
    """

    __slots__ = ("misses", "_text", "_found")

    def __init__(self) -> None:
        self.misses: set[str] = set()
        self._text: str | None = None
        self._found: _Found = ([], [], [], [])

    def __repr__(self) -> str:
        return f"_Scan({len(self.misses)} misses)"

    def first_tokens(self, text: str, roster: Roster) -> _Found:
        """All tokens of ``text`` (``_TOKEN.findall``), the start offsets of those a window can
        read (up to the last one that passes the filter, plus the window after it), the indices
        of those that pass the roster's first-token filter (at least 2 characters, not starting
        with a digit, digest in the filter) and their digests (a one-token window has the same
        digest: it is not computed twice).

        The tokens come from :func:`~detectors.termlists.words_of` (the same words without a
        Match object each); offsets are only worked out when a word passes the filter."""
        if text is self._text:
            return self._found
        words = words_of(text)
        misses = self.misses
        unknown = compress(count(), map(operator.not_, map(misses.__contains__, words)))
        keyed, first = roster.keyed, roster.first_token_filter
        starts: list[int] = []
        digests: list[bytes] = []
        for i in unknown:
            word = words[i]
            if len(word) >= 2 and not word[0].isdigit():
                digest = _digest_with(keyed, word)
                if digest in first:
                    starts.append(i)
                    digests.append(digest)
                    continue
            _remember(misses, word)
        offsets = word_starts(text, words, min(len(words), starts[-1] + _MAX_TOKENS)) if starts else []
        self._text, self._found = text, (words, offsets, starts, digests)
        return self._found


def _remember(memo: set[str], value: str) -> None:
    if len(memo) >= _MISSES_MAX:
        memo.clear()
    memo.add(value)


class RosterNameRecognizer(DutchRecognizer):
    """Names of students on the roster, matched by keyed hash on 1-4 token windows."""

    ENTITY = STUDENT_ROSTER
    RULE = None

    def __init__(self, roster: Roster, hasher: ValueHasher) -> None:
        self.roster = roster
        self.hasher = hasher
        super().__init__()

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        roster = self.roster
        names = roster.name_hashes
        if not names:
            return
        words, offsets, starts, digests = roster.scan.first_tokens(text, roster)
        hash_text = self.hasher.hash_text
        keyed, name_filter, may_continue = roster.keyed, roster.name_filter, roster.may_continue
        n = len(words)
        resume = 0  # tokens inside a name just yielded start no other name
        for i, digest in zip(starts, digests, strict=True):
            if i < resume:
                continue
            start = offsets[i]
            prev_end = start + len(words[i])
            best = None
            # same normalised text, same digest: the name filter never drops a name
            if digest in name_filter and hash_text(text[start:prev_end]) in names:
                best = i
            for j in range(i + 1, min(n, i + _MAX_TOKENS)):
                # most windows ("de" + the next word) are no variant's prefix: stop there
                # instead of digesting the two longer windows too
                if not may_continue(digest):
                    break
                if not _WINDOW_SEPARATORS.fullmatch(text, prev_end, offsets[j]):
                    break
                prev_end = offsets[j] + len(words[j])
                window = text[start:prev_end]
                digest = _digest_with(keyed, window)
                if digest in name_filter and hash_text(window) in names:
                    best = j
            if best is not None:
                yield start, offsets[best] + len(words[best]), 0.95
                resume = best + 1


PUPIL_CONTEXT = ContextRule(
    positive=(
        "ziek", "ziekgemeld", "ziekmelding", "afwezig", "absent", "verzuim", "te laat", "spijbelt",
        "gespijbeld", "leerling", "leerlingen", "groep", "klas", "mentorleerling", "ouders",
        "moeder", "vader", "thuis", "huiswerk", "toets", "proefwerk", "rapport", "cijfer",
        "cijfers", "gedrag", "gepest", "pest", "dyslexie", "adhd", "autisme", "opp", "zorg",
        "zorgen", "onderzoek", "begeleiding", "logopedie", "medicijnen", "allergie", "koorts",
        "hoofdpijn", "buikpijn", "ongeluk", "ziekenhuis", "gevallen", "gehaald", "opgehaald",
        "naar huis", "uit de klas", "gesprek",
    ),
    negative=("vergadering", "teamoverleg", "inval", "invaller", "rooster", "lesrooster"),
    boost=0.35, penalty=0.3, before=60, after=40,
)
"""When a rostered first name alone is a pupil: a pupil word near it (absence, illness, class,
parents, school work, care), and no staff-work word nearer. A staff title right before the
name ("juf Daan", "collega Daan") rules it out in the recognizer itself: as a context word it
would also overrule the pupil in "Hoi juf Sanne, Cas is ziek"."""
_STAFF_BEFORE = re.compile(
    r"(?:juf|juffrouw|meester|collega|directeur|directrice|mentor|leerkracht|docent|docente|"
    r"ib'er|mevrouw|meneer|dhr\.?|mevr\.?)[ \t]+$", re.I)


class RosterFirstNameRecognizer(DutchRecognizer):
    """A rostered pupil's first name alone, in a pupil context ("Grzeniu was ziek"): a PERSON.

    The name lists may not know the first names a school's pupils carry; the roster does. But
    a first name is shared by many people, and which pupil "Daan" is the text does not say
    (another Daan may have left, a teacher may be called Daan too), so this is a PERSON, not a
    STUDENT_ROSTER identity: it adds the name, never a pupil's leaving-date rule. It counts
    only with a pupil word near it (:data:`PUPIL_CONTEXT`: base 0.3, so the context must carry
    it over the threshold) and yields to any longer name in the engine's overlap step."""

    ENTITY = PERSON
    RULE = PUPIL_CONTEXT

    def __init__(self, roster: Roster, hasher: ValueHasher) -> None:
        self.roster = roster
        self.hasher = hasher
        super().__init__(name="RosterFirstNameRecognizer")

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        roster = self.roster
        names = roster.first_name_hashes
        if not names:
            return
        words, offsets, starts, digests = roster.scan.first_tokens(text, roster)
        hash_text = self.hasher.hash_text
        first_names = roster.first_name_filter
        # every first name passed the scan's filter (it is in first_token_filter); of those hits,
        # only a word with a roepnaam's digest (same normalisation, so never a miss) is HMAC'd:
        # not the tussenvoegsels and surnames that start other variants
        for i, digest in zip(starts, digests, strict=True):
            if digest not in first_names:
                continue
            word = words[i]
            # a name is capitalised; "daan" in a URL or a lower-case word is not this pupil
            if not word[0].isupper() or word.isupper():
                continue
            start = offsets[i]
            if hash_text(word) in names and not _STAFF_BEFORE.search(
                    text, max(0, start - 14), start):
                yield start, start + len(word), 0.3


class RosterNumberRecognizer(DutchRecognizer):
    """Student numbers from the roster, next to a student-number label."""

    ENTITY = STUDENT_ROSTER
    RULE = ContextRule(
        positive=STUDENT_NUMBER_RULE.positive, negative=STUDENT_NUMBER_RULE.negative,
        boost=0.6, penalty=0.2, before=50, after=15,
    )
    MIN_DIGITS = 3

    def __init__(self, roster: Roster, hasher: ValueHasher) -> None:
        self.roster = roster
        self.hasher = hasher
        super().__init__(name="RosterNumberRecognizer")

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        if not self.roster.number_hashes:
            return
        # A match of _NUMBER is a whole digit run (no \w before it, digits are \w; none after)
        # of 3-12 digits: try the pattern only at the starts of such runs (shared per text)
        # instead of a scan of the whole text. Same matches, in the same order.
        match = _NUMBER.match
        for start, end in digit_runs(text):
            if not 3 <= end - start <= 12:
                continue
            m = match(text, start)
            if m is None:
                continue
            value = m.group()
            if len(value) in self.roster.number_lengths and (
                self.hasher.hash(STUDENT_ROSTER, value) in self.roster.number_hashes
            ):
                yield m.start(), m.end(), 0.3
