"""Worker-side analysis: fetch, extract, detect. Returns results without content.

An :class:`Analyzer` is built once per worker process (local, pool or Dask): it holds the
expensive pieces, the detection engine (a spaCy pipeline) and the extraction sandbox, and the
connectors it needs to fetch content, rebuilt from their picklable configuration. What leaves
it is an :class:`~scanner.core.model.AnalysisResult`: metadata, hashes, masked findings and errors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.base import Connector, ConnectorContext, ItemFetchError, SourceConfig
from connectors.registry import connector_class
from scanner.core.model import AnalysisResult, Fetched, ItemError, ItemKind, ItemRef, TextPart

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
        from scanner.core.privacy import ValueHasher
        from scanner.extract import ExtractionCache, Extractor

        self.spec = spec
        self.detector = build_detector(spec.detection, ValueHasher(spec.secret))
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

    def analyse(self, refs: Sequence[ItemRef]) -> list[AnalysisResult]:
        """Analyse a batch; detection runs batched over the items whose text was extracted."""
        results: list[AnalysisResult] = []
        texts: list[list[TextPart]] = []
        pending: list[AnalysisResult] = []
        for ref in refs:
            started = time.perf_counter()
            result = AnalysisResult(ref=ref, content_hash=None, verdict=None)
            try:
                fetched = self.connector(ref.source).fetch(ref)
            except ItemFetchError as exc:
                result.errors.append(ItemError(exc.code, str(exc)))
                result.seconds = time.perf_counter() - started
                results.append(result)
                continue
            except Exception as exc:  # noqa: BLE001 - one item never stops the batch
                log.warning("fetch failed for an item of %s: %s", ref.source, type(exc).__name__)
                result.errors.append(ItemError(
                    "fetch_failed", f"ophalen mislukt / fetch failed ({type(exc).__name__})"))
                result.seconds = time.perf_counter() - started
                results.append(result)
                continue
            if ref.kind is ItemKind.MAIL and not ref.title:
                ref = result.ref = _with_headers(ref, fetched)
            extraction = self.extractor.extract(fetched, extraction_kind(ref, fetched), cache=self.cache)
            result.content_hash = extraction.content_hash
            if ref.stored_hash is not None and extraction.content_hash == ref.stored_hash:
                result.content_unchanged = True
                result.bytes_read = extraction.bytes_read
                result.seconds = time.perf_counter() - started
                results.append(result)
                continue
            result.errors.extend(extraction.errors)
            result.parts = len(extraction.parts)
            result.bytes_read = extraction.bytes_read
            if "pst" in ref.labels:
                result.errors.append(ItemError(
                    "pst_archive", "oud mailarchief (.pst) gevonden / old mail archive (.pst) found"))
            result.seconds = time.perf_counter() - started
            texts.append(list(extraction.parts))
            pending.append(result)
            results.append(result)
        if pending:
            started = time.perf_counter()
            verdicts = self.detector.analyze_many(texts)
            share = (time.perf_counter() - started) / len(pending)
            for result, verdict, parts in zip(pending, verdicts, texts, strict=True):
                result.verdict = verdict
                result.seconds += share
                _redact_metadata(result, parts)
        return results

    def close(self) -> None:
        for connector in self._connectors.values():
            try:
                connector.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        self._connectors.clear()
        self.extractor.close()


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


def _redact_metadata(result: AnalysisResult, parts: Sequence[TextPart]) -> None:
    """Mask the values detection found wherever they also stand in the metadata that is
    stored: the subject or file name, and attachment names in finding and error parts. A BSN
    in a subject must not reach the database in clear just because subjects are kept for the
    owner's digest. Only the worker can do this: it is the one place that has the values."""
    from dataclasses import replace

    from scanner.core.privacy import redact

    verdict = result.verdict
    if verdict is None or not verdict.findings:
        return
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
    if not values:
        return
    result.ref = replace(result.ref, title=redact(result.ref.title, values))
    verdict.findings = [replace(f, part=redact(f.part, values)) for f in verdict.findings]
    result.errors = [replace(e, part=redact(e.part, values)) for e in result.errors]


def _with_headers(ref: ItemRef, fetched: Fetched) -> ItemRef:
    """Fill in subject and date from the message's own headers, for connectors whose listing
    does not read them (Maildir). Reads the header block only."""
    import io
    from dataclasses import replace

    from connectors.mailheaders import read_header_block, summarise_headers

    if fetched.name.lower().endswith(".msg"):
        return ref
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
