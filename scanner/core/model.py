"""The item model shared by connectors, extraction, detection, storage and reports.

Everything that crosses a boundary in the pipeline is one of these small, picklable
dataclasses. They are deliberately free of content: an :class:`ItemRef` describes an item
(a mail, a file) without its bytes, a :class:`Finding` describes a detected value without
the value. Only :class:`Fetched` and :class:`TextPart` carry content, and those never reach
the store, a log line or a report.

Why dataclasses and not pydantic here: these objects are created millions of times on the
hot path and shipped between processes (local pool, Dask); plain slotted dataclasses are
cheap to build and to pickle. Validation belongs at the edges (configuration, CLI input).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO


class ItemKind(str, enum.Enum):
    """What an item is: it decides how its content is extracted and how a digest links to it."""

    MAIL = "mail"
    FILE = "file"


class RetentionStatus(str, enum.Enum):
    """Retention verdict as shown to users and exported (Dutch keys are the public contract)."""

    OK = "ok"
    DUE_SOON = "binnenkort"
    OVERDUE = "verlopen"


DUE_STATUSES: tuple[str, ...] = (RetentionStatus.OVERDUE.value, RetentionStatus.DUE_SOON.value)
"""The statuses an owner is told about (digest, Outlook category), most urgent first."""


class RetentionAction(str, enum.Enum):
    """What the owner should do with a due item (Dutch keys: rules name them in the YAML, the
    store keeps them; labels for people are in :mod:`scanner.retention.actions`)."""

    DOSSIER_EN_VERWIJDEREN = "dossier_en_verwijderen"
    LAS_EN_VERWIJDEREN = "las_en_verwijderen"
    VERWIJDEREN = "verwijderen"
    ARCHIVEREN = "archiveren"
    """Archiefwet: move to the LAS / the school's archive; never proposed for deletion."""
    GEEN = "geen"
    """Nothing to do: no student data, exempt, or no rule applies."""


class ExposureLevel(str, enum.Enum):
    """Who can reach an item besides its owner: the risk that follows exposure (issue 20).

    Dutch keys, like the other public keys. ``onbekend`` is never taken for ``beperkt``: an
    item whose sharing could not be read (403/404 on its permissions, an unreadable ACL) is
    unknown, not private."""

    LIMITED = "beperkt"
    """Shared with named people or groups of the school only (or with nobody)."""
    BROAD = "breed_gedeeld"
    """Reachable by anyone with a link, the whole school, a broad group or an outside guest."""
    UNKNOWN = "onbekend"


EXPOSURE_REASONS: tuple[str, ...] = (
    "anonymous_link", "organisation_link", "broad_group", "external_guest", "world_readable",
)
"""Why an item counts as broadly shared, in the order a digest names them (most exposed
first). Codes only: a reason never names a person, group member or address, so the store keeps
them in clear like the category keys. ``anonymous_link``: "Iedereen met de link";
``organisation_link``: a link for everyone in the school's tenant; ``broad_group``: a grant to
Everyone / Authenticated Users / Domain Users / a configured whole-school group;
``external_guest``: a guest or address outside the school; ``world_readable``: a POSIX file
readable by every account."""


@dataclass(frozen=True, slots=True)
class Exposure:
    """The exposure of one item as its connector read it: a level and the reason codes.

    Connectors fill it only for items that are new or changed (reading sharing costs a request
    per item on Graph, a QUERY_INFO on SMB), so an unchanged night reads no permissions."""

    level: ExposureLevel
    reasons: tuple[str, ...] = ()

    @classmethod
    def of(cls, reasons: set[str] | tuple[str, ...] | list[str]) -> Exposure:
        """Broad when any reason was found, else limited; reasons in :data:`EXPOSURE_REASONS` order."""
        ordered = tuple(r for r in EXPOSURE_REASONS if r in set(reasons))
        return cls(ExposureLevel.BROAD if ordered else ExposureLevel.LIMITED, ordered)

    @classmethod
    def unknown(cls) -> Exposure:
        return cls(ExposureLevel.UNKNOWN)

    @property
    def broad(self) -> bool:
        return self.level is ExposureLevel.BROAD


class ItemState(str, enum.Enum):
    """Lifecycle of a stored item. ``opgeruimd`` (cleaned up) is the FG's deletion evidence."""

    ACTIVE = "actief"
    CLEANED = "opgeruimd"


@dataclass(frozen=True, slots=True)
class Unit:
    """An independent piece of crawl work: a mailbox folder, a share subtree, an export file.

    Units are the grain of checkpointing (a unit's cursor is saved only when the unit was
    fully consumed), of resuming (completed units of an interrupted run are not walked again)
    and of scale-out (units can be analysed on different workers).

    ``key`` is stable across runs and unique within its source (for example
    ``"jansen@school.nl/Inbox"`` or ``"share:Gedeeld/Zorg"``). ``owner`` is the teacher the
    unit belongs to when it is known at unit level (mail folders), else ``None``. ``concurrency_key``
    groups units that share a server-side limit (Graph: 4 concurrent requests per mailbox).
    """

    key: str
    label: str
    owner: str | None = None
    concurrency_key: str | None = None
    department: str | None = None
    """School or department of the unit when it differs from the source's (an SMB share per
    department); the FG groups by it."""
    full_listing: bool = True
    """True when :meth:`Connector.crawl` lists every item of the unit on every run (folders,
    mbox, SMB). The pipeline then closes items it did not see as ``opgeruimd``. False for delta
    crawls (Graph delta, EWS sync, IMAP CONDSTORE), which report removals explicitly."""


@dataclass(frozen=True, slots=True)
class ItemRef:
    """Metadata of one item, as discovered by a connector, without its content.

    ``item_key`` is the connector's stable id for the item within its source (immutable Graph
    id, EWS item id, IMAP ``UIDVALIDITY:UID``, a relative file path, a Maildir key). The
    pipeline combines ``source`` and ``item_key`` into the stored item id.

    ``change_key`` changes whenever the content may have changed (etag, EWS ChangeKey, size and
    mtime, IMAP MODSEQ or UID); when it is unchanged the item is not fetched again.

    ``title`` (subject or file name) is personal data: it is stored only for the teacher's own
    digest and never shown to the FG.
    """

    source: str
    item_key: str
    kind: ItemKind
    owner: str
    folder: str
    title: str
    date: datetime
    size: int | None = None
    change_key: str | None = None
    link: str | None = None
    unit_key: str = ""
    labels: tuple[str, ...] = ()
    """Outlook categories, IMAP keywords or similar marks read from the source. The retention
    policy uses them for legal holds and the owner's false-positive mark."""
    locator: str | None = None
    """Where the connector finds the content now (a byte range in an mbox, a path), when that
    can change without the item changing. Not part of the item's identity."""
    stored_hash: str | None = None
    """Set by the pipeline, not by connectors: the content hash stored for this item. When the
    change key moved but the bytes are the same (a touched file, a re-saved attachment), the
    worker sees it after hashing and skips extraction's detection step."""
    sharing_key: str | None = None
    """What changes when the item's sharing may have changed while its content did not (Graph:
    the eTag and the ``shared`` facet of the delta item). When it differs from the stored one
    the pipeline reads the item's :class:`Exposure` again without fetching the content;
    ``None`` for sources whose sharing only matters when the item changes."""


@dataclass(slots=True)
class Fetched:
    """The content of one item, as delivered by :meth:`Connector.fetch`.

    Exactly one of ``data`` (bytes in memory, for small items) or ``open`` (a callable that
    returns a fresh binary stream, for large items and files on disk) is set, so a 2 GB file is
    never read into memory just to be refused by a size limit.
    """

    name: str
    size: int | None
    media_type: str | None = None
    data: bytes | None = None
    open: Callable[[], BinaryIO] | None = None
    path: Path | None = None
    """Set when the content is a local file: extractors may read it directly."""

    def read(self, limit: int | None = None) -> bytes:
        """Return the content, reading at most ``limit`` bytes (``None``: all)."""
        if self.data is not None:
            return self.data if limit is None else self.data[:limit]
        if self.open is None:
            return b""
        with self.open() as stream:
            return stream.read() if limit is None else stream.read(limit)


@dataclass(frozen=True, slots=True)
class TextPart:
    """Text extracted from one part of an item.

    ``part`` names where the text came from: ``"body"`` for a mail body or a plain file, else
    a slash-separated path into attachments and archives such as
    ``"export.zip/leerlingen.csv"``. ``location`` refines it (``"blad Klas 3B"``, ``"pagina 2"``)
    when the extractor knows more. ``context`` carries structural hints for the detectors, for
    example ``{"column_headers": ["Naam", "BSN"]}`` for a spreadsheet row so that a column
    headed BSN raises a BSN candidate's score.
    """

    part: str
    text: str
    location: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    content_hash: str | None = None


@dataclass(frozen=True, slots=True)
class ItemError:
    """An error recorded against one item (or one part of it); the run goes on.

    ``code`` is a stable machine key (``encrypted``, ``too_large``, ``zip_bomb``, ``timeout``,
    ``corrupt``, ``unsupported``, ``fetch_failed``, ``nesting_too_deep``, ``text_truncated``,
    ``too_many_members``, ``memory_limit``, ``crashed``, ``repaired``, ``type_mismatch``,
    ``sheet_truncated``, ``bad_charset``, ``malformed_mime``, ``bad_name``, ``empty``,
    ``ocr_failed``, ``pst_archive``, ``worker_lost``, ``analysis_failed``);
    ``message`` is a Dutch-first human description that never contains content or values.
    """

    code: str
    message: str
    part: str = "body"


RETRYABLE_ERRORS: frozenset[str] = frozenset({
    "fetch_failed", "throttled", "timeout", "unreachable", "offline", "access_denied", "locked",
    "worker_lost", "crashed", "memory_limit", "analysis_failed",
})
"""Item error codes that say "we could not read or analyse this item *this time*", not
"this item is what it is". The one home of that distinction: an item whose last attempt ended
with one of these is fetched again by the next run whatever the connector's delta says (the
pipeline builds its ref from the store), keeps its last good analysis meanwhile (marked
stale), and is never closed for it. The attempts are bounded (``scan.retry_attempts``): after
that the item is a permanent, visible error in the run report and ``status``.

Why these: a server's 429/503 (``throttled``), a reset or a token-endpoint failure
(``fetch_failed``, ``unreachable``), a OneDrive placeholder or a share that was away
(``offline``), a file someone holds open (``locked``), a permission that may be given back
(``access_denied``: an unreadable item is never taken for a deleted one), and the analysis side
(``timeout``, ``crashed``, ``memory_limit`` of the parser sandbox, ``worker_lost`` /
``analysis_failed`` of a dead worker), which depend on the machine's load as much as on the
item. Not retryable: what the item itself is (``too_large``, ``encrypted``, ``corrupt``,
``zip_bomb``, ``not_found``, ``vanished`` ...): reading it again gives the same answer."""


MAIL_ARCHIVE_LABEL = "pst"
"""The label a share or folder connector gives an Outlook archive (.pst, .ost): its mails
become items of their own (scanner.contained)."""
MAIL_ARCHIVE_EXTENSIONS = (".pst", ".ost")
ARCHIVE_READER = "pst1"
"""Leads the change key of a mail archive. Archives stored before their mails were read (a
finding in themselves, ``pst_archive``) have a change key without it, so they are read once
after the upgrade; raise it when the archive reader learns to read more."""


def is_mail_archive(name: str) -> bool:
    """True for a file name of an Outlook archive (by name: the crawl never reads content)."""
    return name.lower().endswith(MAIL_ARCHIVE_EXTENSIONS)


def archive_change_key(change_key: str) -> str:
    """The change key of a mail archive file, from the file's own (size and mtime ...)."""
    return f"{ARCHIVE_READER}:{change_key}"


CONTAINED_SEP = "//"
"""Joins a container's item key and the key of an item inside it: ``"Archief/2012.pst//2097188"``.
A relative path never holds an empty segment, so no file's key can look like this."""


def contained_key(container_key: str, key: str) -> str:
    """The item key of the item ``key`` (a mail's node id) inside the container ``container_key``."""
    return f"{container_key}{CONTAINED_SEP}{key}"


def container_of(item_key: str) -> str | None:
    """The container's item key of an item inside one (a mail in a .pst), else None."""
    head, sep, _ = item_key.partition(CONTAINED_SEP)
    return head if sep else None


def is_retryable(code: str) -> bool:
    """True when an item error with ``code`` is worth another attempt in the next run."""
    return code in RETRYABLE_ERRORS


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected entity, without its value.

    ``masked`` shows only what a person needs to recognise the kind of value (``*****6782``);
    ``value_hash`` is an HMAC of the normalised value with the installation's secret, so the
    same BSN can be counted and matched across items and runs without being stored.
    """

    entity: str
    part: str
    start: int
    end: int
    score: float
    masked: str
    value_hash: str
    category: str | None = None
    location: str | None = None


@dataclass(slots=True)
class Verdict:
    """The outcome of detection for one item (all its parts together)."""

    student_data: bool
    categories: list[str]
    findings: list[Finding]
    reasons: list[str] = field(default_factory=list)
    """Why the verdict is what it is, as rule identifiers with counts (no values)."""


@dataclass(slots=True)
class AnalysisResult:
    """Everything the pipeline learns about one item from its content.

    This is what a worker hands back to the single writer: metadata, hashes and masked
    findings only. No text, no bytes.
    """

    ref: ItemRef
    content_hash: str | None
    verdict: Verdict | None
    errors: list[ItemError] = field(default_factory=list)
    parts: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    content_unchanged: bool = False
    """The content hash equals ``ref.stored_hash``: the stored findings still hold."""
    listed_contents: bool | None = None
    """Set for a mail archive (.pst/.ost) whose mails are items of their own (their results
    follow this one's in the batch): True when every mail in it was listed, so a stored mail of
    the archive that is not among them is gone; False when the listing broke off (a timeout, a
    damaged folder, an unreadable file), so the stored mails are kept. None: no mail archive."""

    exposure: Exposure | None = None
    """The item's sharing, read by the worker with the content (``None``: the source has no
    sharing to read, such as a mailbox, or the content could not be fetched)."""


# --- What a connector's crawl yields ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seen:
    """The item exists at the source with this metadata (new, changed or unchanged)."""

    ref: ItemRef


@dataclass(frozen=True, slots=True)
class Gone:
    """The item was removed at the source (delta crawls report this explicitly)."""

    item_key: str


@dataclass(frozen=True, slots=True)
class Cursor:
    """The crawl of a unit is complete; persist this cursor (delta link, sync state, UID
    high-water mark) for the next run. Yielded last, once, only after every change before it
    was handed out, so a cursor is never saved ahead of unconsumed changes."""

    value: str | None


@dataclass(frozen=True, slots=True)
class Resync:
    """The stored cursor was no longer valid (Graph 410 ``syncStateNotFound``/``resyncRequired``,
    a changed IMAP UIDVALIDITY, an invalid EWS sync state): this crawl lists the unit afresh.

    Yielded before the unit's ``Seen`` events. The pipeline then treats the unit as a full
    listing for this run only, whatever ``Unit.full_listing`` says: items not seen are closed
    (they were deleted during the gap), items seen again under another key are moves. Without
    this event a delta unit never closes what disappeared while its token was invalid.
    """

    reason: str


@dataclass(frozen=True, slots=True)
class Blind:
    """Part of a unit could not be listed this run (an unreadable subfolder, a folder that
    failed to SELECT, a 403 on one folder, a permission error on a file).

    Nothing stored in this unit whose item key starts with ``item_prefix`` is closed this run
    (``""`` protects the whole unit): a blind spot is never taken for a deletion. The pipeline
    records it as a warning (not a failure) naming the place; ``message`` names the folder but
    never content or detected values. Yield it as soon as the problem is met, before ``Cursor``.
    """

    item_prefix: str
    code: str
    message: str


CrawlEvent = Seen | Gone | Cursor | Resync | Blind
CrawlStream = Iterator[CrawlEvent]
