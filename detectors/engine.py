"""The detector: our Dutch recognizers (and spaCy NER via Presidio if a model is there), batched,
with a verdict per item.

``build_detector(settings, hasher)`` is called once per worker process; ``Detector.analyze``
(one item) and ``Detector.analyze_many`` (a batch of items) return :class:`~scanner.core.model.Verdict`
objects that carry masked findings and keyed hashes only.

Where the speed comes from (measured in ``benchmarks/bench_detect.py``):

* without a NER model neither spaCy nor Presidio is imported or run: the recognizers run
  directly (:mod:`detectors.native`), with Presidio's threshold and duplicate rules;
* with a model, only our recognizers are registered in Presidio beside its spaCy recognizer
  (Presidio's defaults include dozens of foreign ones); spaCy runs once over all texts of a batch
  with ``nlp.pipe``, with every component NER does not need disabled; NLP artifacts skip
  lemmas/keywords, and Presidio's lemma context enhancer is replaced by the recognizers' own
  context scoring (:mod:`detectors.context`, :mod:`detectors.presidio_bridge`);
* consecutive small parts of one item with the same origin (spreadsheet rows of one sheet) are
  merged into one text, so per-call overhead is paid per sheet, not per row; long texts are cut
  into pieces of ``chunk_chars`` at line breaks (spaCy's ``max_length`` and flat memory).
"""

from __future__ import annotations

import bisect
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from detectors import entities as E
from detectors.canonical import canonical
from detectors.native import analyze_text
from detectors.nlp import NlpChoice, choose_pipeline
from detectors.recognizers import (
    BirthDateRecognizer,
    BsnRecognizer,
    CategoryTermRecognizer,
    DutchAddressRecognizer,
    DutchPhoneRecognizer,
    IbanRecognizer,
    IdDocumentRecognizer,
    NameLexiconRecognizer,
    OfflineEmailRecognizer,
    OnderwijsnummerRecognizer,
    RosterFirstNameRecognizer,
    RosterNameRecognizer,
    RosterNumberRecognizer,
    StudentNumberRecognizer,
)
from detectors.recognizers.base import DutchRecognizer, Result
from detectors.recognizers.roster import Roster
from detectors.settings import DetectionSettings
from detectors.termlists import build_category_matcher
from detectors.verdict import Hit, explain_reasons, judge
from scanner.core.model import Finding, TextPart, Verdict
from scanner.core.privacy import ValueHasher, mask

logger = logging.getLogger(__name__)

PRIORITY = (
    E.STUDENT_ROSTER, E.NL_BSN, E.NL_ONDERWIJSNUMMER, E.IBAN_CODE, E.EMAIL_ADDRESS,
    E.NL_ID_DOCUMENT, E.NL_LEERLINGNUMMER, E.PHONE_NUMBER, E.DATE_OF_BIRTH, E.NL_ADDRESS,
    E.PERSON, E.LOCATION,
)
"""When spans of two entities overlap, the earlier one wins (a BSN is not also a phone number)."""
_RANK = {entity: i for i, entity in enumerate(PRIORITY)}
_COEXIST = {frozenset({E.PERSON, E.NL_ADDRESS})}
_COEXIST_PAIRS = frozenset((a, b) for pair in _COEXIST for a in pair for b in pair if a != b)
"""The same pairs in both orders, as tuples: no frozenset built per overlap check."""


@dataclass
class _Segment:
    offset: int  # where this part's text starts in the unit text
    length: int
    part: TextPart
    part_offset: int  # where the unit's piece starts in the part's own text (chunks)


@dataclass
class _Unit:
    """One text handed to the analyzer: merged small parts or one chunk of a long part."""

    item: int
    text: str
    segments: list[_Segment]
    context: list[str] = field(default_factory=list)
    _offsets: list[int] = field(default_factory=list, repr=False)

    def locate(self, start: int, end: int) -> tuple[_Segment, int, int]:
        if len(self.segments) == 1:  # one part or one chunk: no lookup
            seg = self.segments[0]
            local_end = min(end - seg.offset, seg.length)
            local_start = start - seg.offset
            return seg, seg.part_offset + local_start, seg.part_offset + max(local_end, local_start)
        if len(self._offsets) != len(self.segments):
            self._offsets = [s.offset for s in self.segments]
        idx = bisect.bisect_right(self._offsets, start) - 1
        seg = self.segments[max(idx, 0)]
        local_start = start - seg.offset
        local_end = min(end - seg.offset, seg.length)
        return seg, seg.part_offset + local_start, seg.part_offset + max(local_end, local_start)


# A Finding built by setting its slots directly: the frozen dataclass's generated __init__
# calls object.__setattr__ once per field; setting the slot descriptors directly takes about
# 40 % less per Finding (timeit, Python 3.11). The object is the same (same class, same slot
# values, still frozen for its readers); a field added to Finding breaks the unpacking below
# loudly, and tests/detectors/test_engine_finding.py compares with Finding(...).
_NEW = object.__new__
_FINDING_SLOTS = tuple(getattr(Finding, f.name).__set__ for f in fields(Finding))


def _finding(entity: str, part: str, start: int, end: int, score: float, masked: str,
             value_hash: str, category: str | None, location: str | None) -> Finding:
    """A :class:`Finding` with these field values (the parameters are its fields, in order)."""
    finding: Finding = _NEW(Finding)
    s0, s1, s2, s3, s4, s5, s6, s7, s8 = _FINDING_SLOTS
    s0(finding, entity)
    s1(finding, part)
    s2(finding, start)
    s3(finding, end)
    s4(finding, score)
    s5(finding, masked)
    s6(finding, value_hash)
    s7(finding, category)
    s8(finding, location)
    return finding


def _context_key(context: dict[str, Any]) -> str:
    try:
        return json.dumps(context, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(sorted(context))


def _context_words(context: dict[str, Any]) -> list[str]:
    headers = context.get("column_headers") if isinstance(context, dict) else None
    return [str(h) for h in headers if h is not None] if isinstance(headers, (list, tuple)) else []


def _leading_header(text: str) -> list[str]:
    """Cells of a table header in the first line of ``text`` (to carry into later chunks)."""
    first = text[:2000].split("\n", 1)[0].strip()
    if not first or any(c.isdigit() for c in first):
        return []
    for delim in ("\t", ";", "|", ","):
        if delim in first:
            cells = [c.strip() for c in first.split(delim)]
            return cells if sum(1 for c in cells if c) >= 2 else []
    return []


def _chunks(text: str, size: int) -> Iterator[tuple[int, str]]:
    """Cut ``text`` into pieces of at most ``size`` characters at line breaks (else spaces)."""
    pos = 0
    n = len(text)
    while pos < n:
        if n - pos <= size:
            yield pos, text[pos:]
            return
        cut = text.rfind("\n", pos + size // 2, pos + size)
        if cut < 0:
            cut = text.rfind(" ", pos + size // 2, pos + size)
        cut = cut + 1 if cut >= 0 else pos + size
        yield pos, text[pos:cut]
        pos = cut


class Detector:
    """Analyses the text parts of items and returns a :class:`Verdict` per item."""

    def __init__(self, settings: DetectionSettings, hasher: ValueHasher, choice: NlpChoice,
                 recognizers: list[DutchRecognizer]) -> None:
        self.settings = settings
        self.hasher = hasher
        self.mode: str = choice.mode
        self.mode_notice: str | None = choice.notice
        supported = {r.ENTITY for r in recognizers}
        if choice.has_ner:
            supported |= {E.PERSON, E.LOCATION}
        wanted = settings.entities
        self.entities: list[str] = sorted(supported & set(wanted)) if wanted else sorted(supported)
        self.recognizers = [r for r in recognizers if r.ENTITY in self.entities]
        self._ner: Any = None
        if choice.has_ner:
            from detectors.presidio_bridge import NerAnalyzer  # imports Presidio and spaCy

            self._ner = NerAnalyzer(choice, self.recognizers, settings.score_threshold)

    # -- public API ---------------------------------------------------------------------------

    def analyze(self, parts: list[TextPart]) -> Verdict:
        """Analyse all parts of one item."""
        return self.analyze_many([parts])[0]

    def analyze_many(self, items: list[list[TextPart]]) -> list[Verdict]:
        """Analyse a batch of items; spaCy sees all their texts in one ``nlp.pipe`` stream."""
        units = [u for index, parts in enumerate(items) for u in self._units(index, parts)]
        per_item: list[list[tuple[str, list[Hit], _Unit]]] = [[] for _ in items]
        errors = [0] * len(items)
        # an item is judged right after its last text: the verdict's cue lists then find the
        # tokens of those texts still cached (termlists._Tokens), and hits of judged items go
        last = {unit.item: k for k, unit in enumerate(units)}
        verdicts: list[Verdict | None] = [None] * len(items)
        derived: dict[tuple[str, str], tuple[str, str]] = {}  # masks and hashes of this batch
        threshold = self.settings.score_threshold
        ner = self._ner
        if ner is not None:
            artifacts = ner.artifacts((u.text for u in units), self.settings.batch_size)
        for k, unit in enumerate(units):
            try:
                if ner is None:
                    results = analyze_text(self.recognizers, unit.text, threshold, unit.context)
                else:
                    _, nlp_artifacts = next(artifacts)
                    results = ner.analyze(unit.text, nlp_artifacts, self.entities, threshold,
                                          unit.context)
            except Exception as exc:  # noqa: BLE001 - one bad text must not stop the batch
                logger.warning(
                    "detectie mislukt voor een tekstdeel (%s) / detection failed for a text part",
                    type(exc).__name__,
                )
                errors[unit.item] += 1
            else:
                per_item[unit.item].append((unit.text, _resolve(results), unit))
            if last[unit.item] == k:
                verdicts[unit.item] = self._verdict(per_item[unit.item], errors[unit.item], derived)
                per_item[unit.item] = []
        return [v if v is not None else self._verdict([], 0, derived) for v in verdicts]

    # -- internals ----------------------------------------------------------------------------

    def _units(self, item: int, parts: Sequence[TextPart]) -> Iterator[_Unit]:
        size = self.settings.chunk_chars
        current: _Unit | None = None
        current_key: tuple[Any, ...] | None = None
        pieces: list[str] = []
        length = 0
        for part in parts:
            text = part.text
            if not text or not text.strip():
                continue
            # location is kept per segment, so rows of one sheet (same part, same headers)
            # merge even though each row has its own location
            key = (part.part, _context_key(part.context))
            words = _context_words(part.context)
            if len(text) > size:
                if current is not None:
                    current.text = "".join(pieces)
                    yield current
                    current, current_key, pieces, length = None, None, [], 0
                header = _leading_header(text)
                for offset, chunk in _chunks(text, size):
                    context = words + (header if offset else [])
                    yield _Unit(item, chunk, [_Segment(0, len(chunk), part, offset)], context)
                continue
            if current is not None and key == current_key and length + len(text) + 1 <= size:
                pieces.append("\n")
                length += 1
            else:
                if current is not None:
                    current.text = "".join(pieces)
                    yield current
                current, current_key, pieces, length = _Unit(item, "", [], words), key, [], 0
            current.segments.append(_Segment(length, len(text), part, 0))
            pieces.append(text)
            length += len(text)
        if current is not None:
            current.text = "".join(pieces)
            yield current

    def _verdict(self, analysed: list[tuple[str, list[Hit], _Unit]], errors: int,
                 derived: dict[tuple[str, str], tuple[str, str]]) -> Verdict:
        """The verdict of one item. ``derived`` holds the masked sample and keyed hash of each
        (entity, value) already seen in this batch: the same term, name or number recurs across
        the items of a batch, and masking, canonical form and HMAC are pure functions of it."""
        student_data, categories, reasons, ignored = judge([(t, hits) for t, hits, _ in analysed])
        findings: list[Finding] = []
        hasher = self.hasher
        append = findings.append
        for text, hits, unit in analysed:
            # one part or one chunk (nearly every unit): its offsets once, not a locate per hit
            single = unit.segments[0] if len(unit.segments) == 1 else None
            if single is not None:
                part, location = single.part.part, single.part.location
                shift, length = single.part_offset - single.offset, single.length
            for hit in hits:
                if ignored and id(hit) in ignored:
                    continue
                entity = hit.entity
                value = text[hit.start : hit.end]
                key = (entity, value)
                known = derived.get(key)
                if known is None:
                    known = derived[key] = (mask(value, entity),
                                            hasher.hash(entity, canonical(entity, value)))
                if single is not None:  # what _Unit.locate gives for one segment
                    local_start = hit.start - single.offset
                    start = shift + hit.start
                    end = single.part_offset + max(min(hit.end - single.offset, length),
                                                   local_start)
                else:
                    seg, start, end = unit.locate(hit.start, hit.end)
                    part, location = seg.part.part, seg.part.location
                # positional: the fields of Finding in order
                append(_finding(entity, part, start, end, round(hit.score, 3), known[0],
                                known[1], hit.category, location))
        if errors:
            reasons.append(f"detectiefout:{errors}")
        return Verdict(student_data=student_data, categories=categories, findings=findings,
                       reasons=reasons)


def _resolve(results: list[Result]) -> list[Hit]:
    """Turn results into hits, dropping the lower-priority one of overlapping spans."""
    category_of = E.ENTITY_CATEGORY.get
    terms = [Hit(r.entity, r.start, r.end, r.score, r.category)
             for r in results if r.entity == E.CATEGORY_TERM]
    others = [Hit(r.entity, r.start, r.end, r.score, category_of(r.entity))
              for r in results if r.entity != E.CATEGORY_TERM]
    if len(others) > 1:
        # sort keys as tuples built in one comprehension; the index keeps the order of equal
        # keys as the stable keyed sort did
        unranked = len(_RANK)
        order = sorted([(_RANK.get(h.entity, unranked), -h.score, h.start, i)
                        for i, h in enumerate(others)])
        others = [others[key[3]] for key in order]
    kept: list[Hit] = []
    starts: list[int] = []  # kept spans sorted by start, for an O(log n) overlap lookup
    longest = 0
    for hit in others:
        lo = bisect.bisect_left(starts, hit.start - longest)
        hi = bisect.bisect_left(starts, hit.end)
        clash = lo < hi and any(
            kept[i].end > hit.start and (kept[i].entity, hit.entity) not in _COEXIST_PAIRS
            for i in range(lo, hi)
        )
        if not clash:
            pos = bisect.bisect_left(starts, hit.start)
            starts.insert(pos, hit.start)
            kept.insert(pos, hit)
            longest = max(longest, hit.end - hit.start)
    kept.extend(terms)
    kept.sort(key=lambda h: (h.start, h.end))
    return kept


def build_detector(settings: DetectionSettings, hasher: ValueHasher) -> Detector:
    """Build the detector for one worker process (loads lexicons, the roster hashes, and spaCy
    only if a NER model is configured and installed).

    Raises ``ValueError`` (Dutch first) for configuration that cannot work: an invalid
    ``student_number_pattern`` or an unreadable roster. Call it once on the driver before a run
    so such mistakes stop the run at the start, not in every worker.
    """
    choice = choose_pipeline(settings.spacy_model)
    recognizers: list[DutchRecognizer] = [
        BsnRecognizer(),
        OnderwijsnummerRecognizer(),
        DutchPhoneRecognizer(),
        IbanRecognizer(),
        OfflineEmailRecognizer(),
        DutchAddressRecognizer(),
        BirthDateRecognizer(),
        IdDocumentRecognizer(),
        NameLexiconRecognizer(),
        CategoryTermRecognizer(build_category_matcher(settings.lexicon_dirs)),
    ]
    if settings.student_number_pattern:
        recognizers.append(StudentNumberRecognizer(settings.student_number_pattern))
    if settings.roster is not None:
        roster = Roster.load(settings.roster, hasher)
        recognizers.append(RosterNameRecognizer(roster, hasher))
        recognizers.append(RosterFirstNameRecognizer(roster, hasher))
        recognizers.append(RosterNumberRecognizer(roster, hasher))
    return Detector(settings, hasher, choice, recognizers)


def explain(verdict: Verdict, lang: str = "nl") -> list[str]:
    """Human-readable lines explaining ``verdict`` ("nl" or "en"); never contains values."""
    return explain_reasons(verdict.student_data, verdict.categories, verdict.reasons, lang)
