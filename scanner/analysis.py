"""Worker-side analysis: fetch, extract, detect. Returns results without content.

An :class:`Analyzer` is built once per worker process (local, pool or Dask): it holds the
expensive pieces, the detection engine (a spaCy pipeline) and the extraction sandbox, and the
connectors it needs to fetch content, rebuilt from their picklable configuration. What leaves
it is an :class:`~scanner.core.model.AnalysisResult`: metadata, hashes, masked findings and errors.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectors.base import Connector, ConnectorContext, ItemFetchError, SourceConfig
from connectors.registry import connector_class
from scanner.contained import MAIL_ARCHIVE_LABEL, ContainedMail, split_archive
from scanner.core.model import (
    AnalysisResult,
    Exposure,
    Fetched,
    Finding,
    ItemError,
    ItemKind,
    ItemRef,
    TextPart,
    Verdict,
    is_retryable,
)
from scanner.core.privacy import Redactor, ValueHasher

if TYPE_CHECKING:
    from scanner.extract import Extraction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisSpec:
    """Everything a worker needs to build an :class:`Analyzer` (picklable)."""

    sources: tuple[SourceConfig, ...]
    detection: Any
    extraction: Any
    secret: bytes
    context: ConnectorContext = field(default_factory=ConnectorContext)


class Analyzer:
    """Fetch, extract and detect, for batches of items from any configured source."""

    def __init__(self, spec: AnalysisSpec) -> None:
        from detectors import build_detector
        from scanner.extract import ExtractionCache, Extractor

        self.spec = spec
        self.hasher = ValueHasher(spec.secret)
        self.detector = build_detector(spec.detection, self.hasher)
        self.extractor = Extractor(spec.extraction)
        self.cache = ExtractionCache()
        self._sources = {source.name: source for source in spec.sources}
        self._connectors: dict[str, Connector] = {}

    @property
    def mode(self) -> str:
        return self.detector.mode

    @property
    def mode_notice(self) -> str | None:
        return self.detector.mode_notice

    def connector(self, source: str) -> Connector:
        if source not in self._connectors:
            config = self._sources[source]
            self._connectors[source] = connector_class(config.kind)(config, self.spec.context)
        return self._connectors[source]

    def _exposure(self, ref: ItemRef) -> Exposure | None:
        try:
            return self.connector(ref.source).exposure(ref)
        except Exception as exc:  # noqa: BLE001 - a connector bug never costs the item's analysis
            log.warning("sharing of an item of %s could not be read: %s", ref.source, type(exc).__name__)
            return Exposure.unknown()

    def analyse(self, refs: Sequence[ItemRef]) -> list[AnalysisResult]:
        """Analyse a batch; detection runs batched over the items whose text was extracted.

        Extraction runs in two steps: each item is read and walked in process (or sent to the
        sandbox whole) in turn, and the attachments the in-process walks deferred go to the
        sandbox together, in one request for the batch (:meth:`Extractor.finish`)."""
        from scanner.extract import Pending

        outcomes: list[_Outcome | None] = []
        waiting: list[tuple[int, AnalysisResult, Fetched, Pending, float]] = []
        for ref in refs:
            started = time.perf_counter()
            result = AnalysisResult(ref=ref, content_hash=None, verdict=None)
            try:
                fetched = self.connector(ref.source).fetch(ref)
            except ItemFetchError as exc:
                result.errors.append(ItemError(exc.code, str(exc)))
            except Exception as exc:  # noqa: BLE001 - one item never stops the batch
                log.warning("fetch failed for an item of %s: %s", ref.source, type(exc).__name__)
                result.errors.append(ItemError(
                    "fetch_failed", f"ophalen mislukt / fetch failed ({type(exc).__name__})"))
            if not any(is_retryable(e.code) for e in result.errors):
                # Only for what is analysed now (new or changed): an unchanged item costs no
                # permissions request. A retryable failure comes back anyway, with its sharing.
                result.exposure = self._exposure(ref)
            if result.errors:
                # Unread, but its title and folder are stored all the same (the digest and IT
                # name the item): they are masked like any other name.
                result.seconds = time.perf_counter() - started
                outcomes.append(_Outcome([result], [], [(result, name_parts(ref, (), ()))]))
                continue
            begun = self.extractor.begin(fetched, extraction_kind(ref, fetched), self.extractor.limits,
                                         self.cache)
            if isinstance(begun, Pending):
                # an in-process mail ( <= inprocess_max_bytes): held until the batch request
                waiting.append((len(outcomes), result, fetched, begun, time.perf_counter() - started))
                outcomes.append(None)
                continue
            outcomes.append(self._extracted(result, fetched, begun, time.perf_counter() - started))
        if waiting:
            started = time.perf_counter()
            finished = self.extractor.finish([pending for _, _, _, pending, _ in waiting])
            share = (time.perf_counter() - started) / len(waiting)
            for (index, result, fetched, _, seconds), extraction in zip(waiting, finished, strict=True):
                outcomes[index] = self._extracted(result, fetched, extraction, seconds + share)
        results: list[AnalysisResult] = []
        texts: list[list[TextPart]] = []
        pending: list[AnalysisResult] = []
        names_only: list[tuple[AnalysisResult, list[TextPart]]] = []
        for outcome in outcomes:
            assert outcome is not None
            results.extend(outcome.results)
            for result, parts in outcome.texts:
                pending.append(result)
                texts.append(parts)
            names_only.extend(outcome.names_only)
        if pending:
            started = time.perf_counter()
            verdicts = self.detector.analyze_many(texts)
            share = (time.perf_counter() - started) / len(pending)
            for result, verdict, parts in zip(pending, verdicts, texts, strict=True):
                result.verdict = verdict
                result.seconds += share
                _add_name_numbers(verdict, parts, self.hasher)
                _redact_metadata(result, parts)
        if names_only:
            verdicts = self.detector.analyze_many([names for _, names in names_only])
            for (result, names), verdict in zip(names_only, verdicts, strict=True):
                _redact_ref(result, _found_values(verdict, names))
        return results

    def _extracted(self, result: AnalysisResult, fetched: Fetched, extraction: Extraction,
                   seconds: float) -> _Outcome:
        """What one extracted item gives: its result (and those of the mails of an archive),
        the texts for detection, or only its names when its content is unchanged."""
        ref = result.ref
        if ref.kind is ItemKind.MAIL and not ref.title:
            ref = result.ref = _with_headers(ref, fetched, extraction.headers)
        result.content_hash = extraction.content_hash
        result.bytes_read = extraction.bytes_read
        result.seconds = seconds
        archive = extraction.listing_complete is not None or bool(extraction.messages)
        if (ref.stored_hash is not None and extraction.content_hash == ref.stored_hash
                and not archive):
            # The stored findings hold, but the metadata that will be written (a moved
            # folder) must be masked all the same: its names are analysed on their own.
            result.content_unchanged = True
            return _Outcome([result], [], [(result, name_parts(ref, (), ()))])
        own_parts = extraction.parts
        mails: list[ContainedMail] = []
        if archive:
            # Each mail of a .pst/.ost is an item of its own; the archive keeps its name
            # and its own errors (a damaged folder, the time limit).
            mails, own_errors = split_archive(ref, extraction.parts, extraction.errors,
                                              extraction.messages)
            result.errors.extend(own_errors)
            result.listed_contents = extraction.listing_complete is True
            own_parts = []
        else:
            result.errors.extend(extraction.errors)
            if MAIL_ARCHIVE_LABEL in ref.labels:
                result.errors.append(ItemError(
                    "pst_archive", "oud mailarchief (.pst) gevonden / old mail archive (.pst) found"))
        result.parts = len(own_parts)
        # Names are analysed with the content: a value that stands only in a file,
        # folder, attachment, member or sheet name is a finding of its own.
        outcome = _Outcome([result], [(result, [*own_parts, *name_parts(ref, own_parts, result.errors)])], [])
        for mail in mails:
            # a mail inside an archive is as widely readable as the archive file
            child = AnalysisResult(ref=mail.ref, content_hash=mail.content_hash, verdict=None,
                                   errors=mail.errors, parts=len(mail.parts), exposure=result.exposure)
            outcome.texts.append((child, [*mail.parts, *name_parts(mail.ref, mail.parts, mail.errors)]))
            outcome.results.append(child)
        return outcome

    def close(self) -> None:
        for connector in self._connectors.values():
            try:
                connector.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        self._connectors.clear()
        self.extractor.close()


@dataclass
class _Outcome:
    """One item's share of a batch, in the order the batch lists its items: its result(s),
    the texts that go through detection and the results of which only the names do."""

    results: list[AnalysisResult]
    texts: list[tuple[AnalysisResult, list[TextPart]]]
    names_only: list[tuple[AnalysisResult, list[TextPart]]]


_WORKER_ANALYZER: Analyzer | None = None


def worker_analyzer(spec: AnalysisSpec) -> Analyzer:
    """The process-wide analyzer of a worker process, built on first use and then reused."""
    global _WORKER_ANALYZER
    if _WORKER_ANALYZER is None or _WORKER_ANALYZER.spec is not spec and _WORKER_ANALYZER.spec != spec:
        if _WORKER_ANALYZER is not None:
            _WORKER_ANALYZER.close()
        _WORKER_ANALYZER = Analyzer(spec)
    return _WORKER_ANALYZER



NOT_PERSONAL = frozenset({"CATEGORY_TERM"})
"""Findings that are vocabulary ("ADHD", "OPP"), not values about a person."""

NAME_PART = "naam"
"""The ``part`` of a finding in a name (subject, file, folder, attachment, member or sheet name);
its ``location`` says which name (``titel``, ``map``, ``onderdeel 2``, ``plaats 1``), never the
name itself."""
MAX_NAMES = 200
"""At most this many part and location names per item are analysed (a sheet has a location
per row block); the rest are still masked by :func:`scanner.core.privacy.scrub`."""
_NAME_SEPARATORS = re.compile(r"[/\\_]+")


def name_parts(ref: ItemRef, parts: Sequence[TextPart], errors: Sequence[ItemError]) -> list[TextPart]:
    """The item's names as texts for detection: title, folder, every attachment or archive
    member path and every location (sheet names). Path separators and underscores become
    spaces, so ``leerlingen/999980051.txt`` reads as words; the offsets stay those of the
    prepared text, which is what :func:`_found_values` slices."""
    names: list[TextPart] = []

    def add(location: str, text: str | None) -> None:
        if text and text.strip():
            names.append(TextPart(part=NAME_PART, text=_NAME_SEPARATORS.sub(" ", text), location=location))

    if not any(p.part == "subject" for p in parts):  # a mail's subject is analysed as a part already
        add("titel", ref.title)
    add("map", ref.folder)
    paths = [p.part for p in parts] + [e.part for e in errors]
    seen_parts = dict.fromkeys(path for path in paths if path and path != "body")
    for index, part in enumerate(list(seen_parts)[:MAX_NAMES], start=1):
        add(f"onderdeel {index}", part)
    seen_locations = dict.fromkeys(_location_name(p.location) for p in parts if p.location)
    for index, location in enumerate(list(seen_locations)[:MAX_NAMES], start=1):
        add(f"plaats {index}", location)
    return names


def _location_name(location: str) -> str:
    """``blad Klas 3B, rij 2-201`` -> ``blad Klas 3B``: the rows add nothing to the name."""
    return location.split(", rij ", 1)[0]


def _add_name_numbers(verdict: Verdict, parts: Sequence[TextPart], hasher: ValueHasher) -> None:
    """A valid BSN or onderwijsnummer in a name is a finding even where detection wanted more
    context (``123 456 782.pdf``): a number that passes the 11-proef does not stand in a
    file name by accident. It does not change the verdict, only what is counted and masked."""
    from detectors import entities as E
    from detectors.canonical import canonical
    from scanner.core.privacy import identity_kind, identity_numbers, mask

    found = {(f.part, f.location, f.start) for f in verdict.findings}
    for part in parts:
        if part.part != NAME_PART:
            continue
        for start, end in identity_numbers(part.text):
            if (part.part, part.location, start) in found:
                continue
            value = part.text[start:end]
            entity = E.NL_ONDERWIJSNUMMER if identity_kind(value) == "onderwijsnummer" else E.NL_BSN
            verdict.findings.append(Finding(
                entity=entity, part=part.part, start=start, end=end, score=0.5,
                masked=mask(value, entity), value_hash=hasher.hash(entity, canonical(entity, value)),
                category="identificatie", location=part.location))


def _found_values(verdict: Verdict | None, parts: Sequence[TextPart]) -> dict[str, str]:
    """value -> entity for every personal finding of ``verdict``, sliced from ``parts``."""
    if verdict is None:
        return {}
    texts = {(p.part, p.location): p.text for p in parts}
    by_part = {p.part: p.text for p in parts}
    values: dict[str, str] = {}
    for finding in verdict.findings:
        if finding.entity in NOT_PERSONAL:
            continue
        text = texts.get((finding.part, finding.location), by_part.get(finding.part, ""))
        value = text[finding.start:finding.end]
        if value.strip():
            values[value] = finding.entity
    return values


def mask_name(text: str, values: dict[str, str] | Redactor) -> str:
    """A display string with every detected value masked, then every identity number.
    ``values`` may be a prepared :class:`~scanner.core.privacy.Redactor` (many strings, one
    item's values)."""
    from scanner.core.privacy import scrub

    if not text:
        return text
    redactor = values if isinstance(values, Redactor) else Redactor(values)
    return scrub(redactor(text))


def _redact_ref(result: AnalysisResult, values: dict[str, str] | Redactor) -> None:
    from dataclasses import replace

    ref = result.ref
    result.ref = replace(ref, title=mask_name(ref.title, values), folder=mask_name(ref.folder, values))


def _redact_metadata(result: AnalysisResult, parts: Sequence[TextPart]) -> None:
    """Mask the values detection found, in the content or in a name, wherever they stand in
    the metadata that is stored: subject or file name, folder, the part (attachment or member
    path) and location (sheet name) of every finding and error. A BSN in a subject must not
    reach the database in clear just because subjects are kept for the owner's digest. Only
    the worker can do this: it is the one place that has the values."""
    from dataclasses import replace

    values = Redactor(_found_values(result.verdict, parts))  # prepared once for every string below
    _redact_ref(result, values)
    # An item's findings share a few part and location names ("body", one attachment): each
    # distinct string is masked once, and a finding whose names do not change is kept as it
    # is (findings are frozen), instead of a copy per finding.
    masked: dict[str, str] = {}

    def masked_name(text: str) -> str:
        done = masked.get(text)
        if done is None:
            done = masked[text] = mask_name(text, values)
        return done

    verdict = result.verdict
    if verdict is not None:
        findings = []
        known = masked.get  # the memo first: ~13 findings per mail share two or three names
        for f in verdict.findings:
            part = known(f.part) or masked_name(f.part)
            location = (known(f.location) or masked_name(f.location)) if f.location else f.location
            findings.append(f if part == f.part and location == f.location
                            else replace(f, part=part, location=location))
        verdict.findings = findings
    result.errors = [replace(e, part=masked_name(e.part), message=masked_name(e.message))
                     for e in result.errors]


def _with_headers(ref: ItemRef, fetched: Fetched, parsed: dict[str, Any] | None = None) -> ItemRef:
    """Fill in subject and date from the message's own headers, for connectors whose listing
    does not read them (Maildir). ``parsed``: the raw headers extraction already parsed (a
    mail read in process), used when its header block is one the reader below reads whole, so
    the result is the same; otherwise the header block is read (only it) and parsed."""
    import io
    from dataclasses import replace

    from connectors.mailheaders import (
        MAX_HEADER_BYTES,
        decode_subject,
        parse_date,
        read_header_block,
        summarise_headers,
    )

    if fetched.name.lower().endswith(".msg"):
        return ref
    if parsed is not None and int(parsed.get("header_bytes") or MAX_HEADER_BYTES) < MAX_HEADER_BYTES:
        date = parse_date(parsed.get("date"))
        return replace(ref, title=decode_subject(parsed.get("subject")), date=date or ref.date)
    try:
        if fetched.data is not None:
            block = read_header_block(io.BytesIO(fetched.data))
        elif fetched.open is not None:
            with fetched.open() as stream:
                block = read_header_block(stream)
        else:
            return ref
    except OSError:
        return ref
    summary = summarise_headers(block)
    return replace(ref, title=summary.subject, date=summary.date or ref.date)


def extraction_kind(ref: ItemRef, fetched: Fetched) -> ItemKind:
    """How to read an item's bytes: an Outlook .msg is a mail, but not RFC 822, so the
    extractor treats it as a file (it detects .msg by its OLE signature)."""
    if ref.kind is ItemKind.MAIL and fetched.name.lower().endswith(".msg"):
        return ItemKind.FILE
    return ref.kind
