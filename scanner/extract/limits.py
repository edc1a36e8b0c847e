"""Limits that keep one hostile or huge item from stopping, hanging or exhausting a run."""

from __future__ import annotations

from pydantic import Field

from scanner.core.config_base import StrictModel

MiB = 1024 * 1024


class ExtractionLimits(StrictModel):
    """The ``extraction:`` section of the YAML. Every limit, when hit, becomes a clear
    per-item error and the run goes on."""

    max_item_bytes: int = Field(default=100 * MiB, ge=1)
    """Largest item (and largest attachment or archive member) that is read at all."""
    max_text_chars: int = Field(default=5_000_000, ge=1000)
    """Text kept per item over all its parts; the rest is cut off (``text_truncated``)."""
    max_depth: int = Field(default=5, ge=0, le=50)
    """Nesting of attachments and archives (a mail's attachment is depth 1)."""
    max_archive_total_bytes: int = Field(default=500 * MiB, ge=1)
    """Uncompressed bytes all archives of one item may produce together, all levels."""
    max_archive_ratio: float = Field(default=100.0, ge=1.0)
    """Largest uncompressed/compressed ratio of a member over 1 MiB."""
    max_archive_members: int = Field(default=10_000, ge=1)
    max_seconds_per_item: float = Field(default=120.0, gt=0)
    """Wall time per item; the sandbox worker is killed and restarted when it is exceeded."""
    max_memory_bytes: int = Field(default=1024 * MiB, ge=384 * MiB)
    """Address-space cap (RLIMIT_AS) of the sandbox worker process."""
    max_sheet_rows: int = Field(default=1_000_000, ge=1)
    """Rows read per sheet, table or CSV file (``sheet_truncated`` beyond)."""
    max_empty_rows: int = Field(default=10_000, ge=1)
    """Consecutive empty rows after which a sheet is taken to have ended (``sheet_truncated``)."""
    inprocess_max_bytes: int = Field(default=1 * MiB, ge=0)
    """Mails (and text files) up to this size are parsed in the caller's process: their plain
    and HTML bodies never cross to the sandbox; binary attachments go there, those of a batch's
    mails in one request. Larger items go to the sandbox whole. 0: always use the sandbox."""
    ocr: bool = False
    ocr_language: str = "nld"
