"""Limits that keep one hostile or huge item from stopping, hanging or exhausting a run."""

from __future__ import annotations

from pydantic import Field

from connectors.base import StrictModel

MiB = 1024 * 1024


class ExtractionLimits(StrictModel):
    """The ``extraction:`` section of the YAML. Every limit, when hit, becomes a clear
    per-item error and the run goes on."""

    max_item_bytes: int = Field(default=100 * MiB, ge=1)
    max_text_chars: int = Field(default=5_000_000, ge=1000)
    max_depth: int = Field(default=5, ge=0, le=50)
    max_archive_total_bytes: int = Field(default=500 * MiB, ge=1)
    max_archive_ratio: float = Field(default=100.0, ge=1.0)
    max_archive_members: int = Field(default=10_000, ge=1)
    max_seconds_per_item: float = Field(default=120.0, gt=0)
    ocr: bool = False
    ocr_language: str = "nld"
