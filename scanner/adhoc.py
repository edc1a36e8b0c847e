"""``schoonschip analyze``: detection on files, folders, stdin or JSON lines, without a store.

Used by IT to try the detector on a sample before configuring sources, by the evaluation
harness, and by other programs through ``--input jsonl``. Values are hashed with a throw-away
key (nothing is stored, so there is nothing to match later) and never printed: the output has
masked samples only.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from scanner.core.model import Fetched, ItemError, ItemKind, TextPart, Verdict

MAIL_SUFFIXES = {".eml"}


@dataclass
class AnalysedDocument:
    label: str
    label_key: str  # "path" or "id"
    verdict: Verdict | None
    errors: list[ItemError] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        verdict = self.verdict
        return {
            self.label_key: self.label,
            "student_data": bool(verdict and verdict.student_data),
            "categories": list(verdict.categories) if verdict else [],
            "findings": [
                {"entity": f.entity, "part": f.part, "start": f.start, "end": f.end,
                 "score": round(float(f.score), 3), "masked": f.masked}
                for f in (verdict.findings if verdict else [])
            ],
            "errors": [{"code": e.code, "message": e.message, "part": e.part} for e in self.errors],
        }

    def explanation(self, lang: str) -> list[str]:
        if self.verdict is None:
            return []
        from detectors import explain

        return explain(self.verdict, lang)

    def as_text(self, lang: str, explain: bool = False) -> str:
        verdict = self.verdict
        flag = ("LEERLINGGEGEVENS" if lang == "nl" else "STUDENT DATA") if verdict and verdict.student_data else "-"
        lines = [f"{self.label}: {flag}  [{', '.join(verdict.categories) if verdict else ''}]"]
        for finding in verdict.findings if verdict else []:
            lines.append(f"  {finding.entity:<20} {finding.masked:<16} {finding.score:.2f}  {finding.part}")
        for error in self.errors:
            lines.append(f"  ! {error.code}: {error.message} ({error.part})")
        if explain:
            lines.extend(f"  > {line}" for line in self.explanation(lang))
        return "\n".join(lines)


class _Engine:
    """Detector and extractor built once per command."""

    def __init__(self, settings: Any | None) -> None:
        from detectors import build_detector
        from detectors.settings import DetectionSettings
        from scanner.core.privacy import ValueHasher
        from scanner.extract import ExtractionCache, Extractor
        from scanner.extract.limits import ExtractionLimits

        detection = settings.detection if settings else DetectionSettings()
        limits = settings.extraction if settings else ExtractionLimits()
        self.detector = build_detector(detection, ValueHasher(secrets.token_bytes(32)))
        self.extractor = Extractor(limits)
        self.cache = ExtractionCache()

    def extract(self, fetched: Fetched, kind: ItemKind):
        return self.extractor.extract(fetched, kind, cache=self.cache)

    def close(self) -> None:
        self.extractor.close()


def _opener(path: Path) -> Callable[[], BinaryIO]:
    """The extractor's opener for one file (it closes what it opens)."""
    return lambda: open(path, "rb")


def _files(paths: Iterable[str]) -> Iterator[Path | str]:
    for raw in paths:
        if raw == "-":
            yield "-"
            continue
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield Path(root) / name
        else:
            yield path


Pending = tuple[AnalysedDocument, "list[TextPart] | None"]


def analyse_paths(paths: list[str], settings: Any | None, stdin: BinaryIO | None = None,
                  batch: int = 16) -> Iterator[AnalysedDocument]:
    """Analyse files (and '-' for stdin text), detecting in batches, yielding in input order."""
    return _in_batches(settings, lambda engine: _path_inputs(engine, paths, stdin), batch)


def analyse_jsonl(stream: TextIO, settings: Any | None, batch: int = 32) -> Iterator[AnalysedDocument]:
    """Analyse ``{"id": ..., "text": ...}`` lines; a bad line gets an error object, not a crash."""
    return _in_batches(settings, lambda engine: _jsonl_inputs(stream), batch)


def _in_batches(settings: Any | None, inputs: Callable[[_Engine], Iterator[Pending]],
                batch: int) -> Iterator[AnalysedDocument]:
    """Build the engine once, collect inputs (a document with its text parts, or ``None`` for
    unreadable input) and detect them ``batch`` at a time."""
    engine = _Engine(settings)
    try:
        pending: list[Pending] = []
        for item in inputs(engine):
            pending.append(item)
            if len(pending) >= batch:
                yield from _detect(engine, pending)
                pending = []
        yield from _detect(engine, pending)
    finally:
        engine.close()


def _path_inputs(engine: _Engine, paths: list[str], stdin: BinaryIO | None) -> Iterator[Pending]:
    for path in _files(paths):
        if path == "-":
            data = (stdin.read() if stdin else b"")
            fetched = Fetched(name="stdin.txt", size=len(data), data=data)
            document = AnalysedDocument("-", "path", None)
            kind = ItemKind.FILE
        else:
            assert isinstance(path, Path)
            document = AnalysedDocument(str(path), "path", None)
            if not path.is_file():
                document.errors.append(ItemError("not_found", "bestand bestaat niet / file does not exist"))
                yield document, None
                continue
            fetched = Fetched(name=path.name, size=path.stat().st_size, path=path,
                              open=_opener(path))
            kind = ItemKind.MAIL if path.suffix.lower() in MAIL_SUFFIXES else ItemKind.FILE
        extraction = engine.extract(fetched, kind)
        document.errors.extend(extraction.errors)
        yield document, list(extraction.parts)


def _jsonl_inputs(stream: TextIO) -> Iterator[Pending]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            ident, text = record["id"], record["text"]
            if not isinstance(text, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            yield AnalysedDocument(f"regel {number}", "id", None,
                                   [ItemError("bad_input",
                                              'verwacht {"id", "text"} / expected {"id", "text"}')]), None
            continue
        yield AnalysedDocument(ident, "id", None), [TextPart(part="body", text=text)]


def _detect(engine: _Engine, pending: list[Pending]) -> Iterator[AnalysedDocument]:
    """Detect in one batch and yield the documents in input order (unreadable ones included)."""
    if not pending:
        return
    readable = [parts for _, parts in pending if parts is not None]
    verdicts = iter(engine.detector.analyze_many(readable) if readable else [])
    for document, parts in pending:
        if parts is not None:
            document.verdict = next(verdicts)
        yield document
