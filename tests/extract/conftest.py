"""Fixtures for extraction tests: one sandboxed Extractor per test module."""

from __future__ import annotations

import pytest

from scanner.core.model import Fetched, ItemKind
from scanner.extract import Extraction, ExtractionLimits, Extractor
from tests.extract import corpus


@pytest.fixture(scope="module")
def limits() -> ExtractionLimits:
    return ExtractionLimits()


@pytest.fixture(scope="module")
def extractor(limits):
    ext = Extractor(limits)
    yield ext
    ext.close()


def run(extractor: Extractor, data: bytes, name: str = "bestand", kind: ItemKind = ItemKind.FILE,
        cache=None, **limit_overrides) -> Extraction:
    fetched = Fetched(name=name, size=len(data), data=data)
    if limit_overrides:
        limits = extractor.limits.model_copy(update=limit_overrides)
        return extractor.extract_with(fetched, kind, limits, cache)
    return extractor.extract(fetched, kind, cache)


def codes(result: Extraction) -> dict[str, set[str]]:
    """part -> set of error codes."""
    out: dict[str, set[str]] = {}
    for error in result.errors:
        out.setdefault(error.part, set()).add(error.code)
    return out


def all_codes(result: Extraction) -> set[str]:
    return {e.code for e in result.errors}


def text_of(result: Extraction, part: str | None = None) -> str:
    return "\n".join(p.text for p in result.parts if part is None or p.part == part)


def assert_healthy(extractor: Extractor) -> None:
    """After a hostile input, an ordinary item must still extract normally."""
    data = corpus.pdf_bytes(["Controle: leerling Noor, BSN 123456782"])
    result = run(extractor, data, "controle.pdf")
    assert result.errors == []
    assert "Noor" in text_of(result)
