"""Plain data contracts between the store and the reports.

The store (SQLAlchemy) builds these objects from its queries; the report modules only ever
see them. Keeping the reports free of database code means they can be tested with hand-made
data, and it makes the privacy boundary visible in one place:

* :class:`TeacherDigest` carries titles (subjects, file names), but only of items that belong
  to the one teacher it is addressed to.
* The FG frame (:data:`FG_ITEM_COLUMNS`) has no title, no owner and no link column at all, so
  an FG report cannot show a teacher or a subject even by mistake.
* :class:`RunReportData` holds counts, error codes and source names, never item data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from scanner.core.model import DUE_STATUSES, RetentionAction

DigestStatus = Literal["verlopen", "binnenkort"]
DigestAction = Literal["dossier_en_verwijderen", "las_en_verwijderen", "verwijderen", "archiveren"]

DIGEST_STATUSES: tuple[str, ...] = DUE_STATUSES
"""Order in which urgency groups appear in a digest: overdue first."""

DIGEST_ACTIONS: tuple[str, ...] = tuple(a.value for a in RetentionAction if a is not RetentionAction.GEEN)
"""The actions a digest item can ask for (an item that needs nothing is not in a digest)."""


@dataclass(frozen=True)
class AnswerLink:
    """One answer the teacher can give with a click (issue 18): ``action`` is
    ``verwijderen`` | ``bewaren`` | ``geen_leerlinggegevens``; ``url`` is an opaque link to the
    answer service (nothing personal in it)."""

    action: str
    url: str


@dataclass(frozen=True)
class AnswerNote:
    """The owner's standing *verwijderen* answer on an item that is still there: ``kind`` is
    ``failed`` (the source refused; ``code`` says why) or ``manual`` (the source cannot act:
    the teacher was asked to delete it by hand)."""

    kind: str
    day: dt.date
    code: str | None = None


@dataclass(frozen=True)
class DigestItem:
    """One of a teacher's own items that holds student data and needs attention."""

    item_id: str
    source: str
    kind: str  # "mail" | "file"
    title: str
    """Subject or file name. Personal data: only ever shown to the item's own owner."""
    folder: str
    date: datetime
    categories: tuple[str, ...]
    status: str  # "verlopen" | "binnenkort"
    due_date: dt.date | None  # not `date`: the field above shadows it in this class
    action: str  # "dossier_en_verwijderen" | "las_en_verwijderen" | "verwijderen" | "archiveren"
    link: str | None
    """Graph webLink, OWA link, or a file path / UNC path."""
    answers: tuple[AnswerLink, ...] = ()
    """The answer links (none when the school runs no answer service)."""
    answer_note: AnswerNote | None = None
    """What became of the owner's last answer, when the item is still there."""

    link_text: str | None = None
    """How a path link is shown: the path with the names and values found in the item masked
    (the link itself stays whole, so it still opens the item). None: shown as it is."""
    move_on: dt.date | None = None
    """Optional enforcement (issue 18, item 5): the day the school's policy moves the item to
    Verwijderde items / the recycle bin if the teacher does not answer before it."""
    exposure_reasons: tuple[str, ...] = ()
    """Why the item is *breed gedeeld* (reason codes of ``scanner.core.model.EXPOSURE_REASONS``);
    empty when it is not broadly shared. A broadly shared item is in the digest whatever its
    retention status (``status`` may then be ``ok``) and comes first."""

    @property
    def broadly_shared(self) -> bool:
        return bool(self.exposure_reasons)

@dataclass(frozen=True)
class FolderGroup:
    """All of a teacher's digest items in one folder, answered at once ("alle 14 berichten in
    Archief 2017 verwijderen"). ``count`` is what the links cover."""

    folder: str
    """The stored (masked) folder name."""
    kind: str  # "mail" | "file" | "mixed"
    count: int
    answers: tuple[AnswerLink, ...]
    item_ids: tuple[str, ...] = ()
    """The items the links cover: a sent digest has announced them (the first-digest record)."""


@dataclass(frozen=True)
class TeacherDigest:
    """Everything one teacher's weekly digest shows."""

    owner: str
    """The teacher's e-mail address (the recipient)."""
    language: str  # "nl" | "en"
    school: str
    items: list[DigestItem]
    generated: datetime
    full_list_hint: str | None = None
    """Where the full list is when the digest is capped, e.g. "vraag de ICT-afdeling om de
    volledige lijst" or a path."""
    folder_groups: list[FolderGroup] = field(default_factory=list)
    """Folders with two or more items, each with answer links for all of them."""
    policy_moved: dict[str, int] = field(default_factory=dict)
    """Optional enforcement: how many of the teacher's items the school's policy moved since
    their last digest, per place they went ("Verwijderde items"); told so they can look there."""


FG_ITEM_COLUMNS: list[str] = [
    "item_id",
    "source_kind",
    "kind",
    "department",
    "date",
    "categories",  # list[str]
    "sensitivity",
    "status",  # "ok" | "binnenkort" | "verlopen"
    "state",  # "actief" | "opgeruimd"
    "closed_at",
    "first_seen_run",
    "false_positive",  # bool
    "student_data",  # bool
]
"""Columns of the FG item frame: one row per item (active and cleaned up), no titles, no
owners. ``owner_key`` (a keyed hash of the owner, never the address) is an optional extra
column: when present, departments with fewer distinct owners than the minimum group size
are merged, so a one-teacher department cannot be singled out."""

FG_OPTIONAL_COLUMNS: list[str] = ["owner_key", "action", "broad"]
"""``action``: the retention action key; items to archive (Archiefwet) get a table of their own.
``broad``: the item is *breed gedeeld* (student data anyone with a link, the whole school or a
guest can reach): counted per category and department."""

FG_RUN_COLUMNS: list[str] = ["run_id", "started_at", "finished_at", "status"]
"""Columns of the runs frame the FG report uses to compute trends between runs."""


@dataclass(frozen=True)
class SourceError:
    """Errors of one kind in one source during a run (code, Dutch-first message, count)."""

    code: str
    message: str
    count: int = 1


@dataclass
class SourceRunStats:
    """What happened to one source in one run."""

    name: str
    kind: str
    items_seen: int = 0
    items_analysed: int = 0
    items_skipped: int = 0
    items_closed: int = 0
    errors: list[SourceError | tuple[str, str, int]] = field(default_factory=list)
    """Errors as :class:`SourceError` or plain ``(code, message, count)`` tuples."""
    bytes_read: int = 0
    seconds: float = 0.0

    def error_list(self) -> list[SourceError]:
        """The errors normalised to :class:`SourceError`, most frequent first."""
        normalised = [e if isinstance(e, SourceError) else SourceError(*e) for e in self.errors]
        return sorted(normalised, key=lambda e: (-e.count, e.code))


@dataclass
class RunReportData:
    """Input of the IT run report."""

    run_id: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    detection_mode: str
    """E.g. "spacy:nl_core_news_lg" or "fallback"."""
    detection_notice: str | None = None
    """Shown prominently when detection runs in a degraded mode (no spaCy model installed)."""
    sources: list[SourceRunStats] = field(default_factory=list)
    item_errors_by_code: dict[str, int] = field(default_factory=dict)
    warnings: list[tuple[str, str, str, int]] = field(default_factory=list)
    """(source, code, message, count) of what the run handled safely: a place a listing could
    not see (its items were kept), a suspected outage (nothing closed). Not failures."""
    moved: int = 0
    """Items found again under another key: not in "cleaned up"."""
    stale: int = 0
    """Items that could not be read this run and keep their last good analysis."""
    given_up: dict[tuple[str, str], int] = field(default_factory=dict)
    """(source, last error code) -> items whose retry attempts are used up: permanent errors."""
    retry_attempts: int = 0
    enforcement: dict | None = None
    """Optional enforcement in this run (:class:`scanner.enforcement.run.EnforcementStats`
    as a dict: moved per source, failed per code, waiting, unseen, cannot_act, skipped)."""
