"""The contract every connector fulfils, and the configuration every source shares.

A connector knows one kind of source (a Maildir, a Graph tenant, an SMB server). The
pipeline drives it in three steps, which keeps discovery cheap and content handling lazy:

1. :meth:`Connector.units` lists independent pieces of work (mailbox folders, share subtrees).
2. :meth:`Connector.crawl` streams what changed in one unit since the stored cursor, as
   :class:`~scanner.core.model.Seen` / :class:`~scanner.core.model.Gone` events followed by one final
   :class:`~scanner.core.model.Cursor`. It never reads content.
3. :meth:`Connector.fetch` delivers the content of one item, only for items the pipeline
   decided to analyse (new, or changed ``change_key``).

Errors: a problem with one item raises :class:`ItemFetchError` from ``fetch`` (recorded
against that item); a problem with a whole unit or source raises :class:`SourceError` (recorded
against the source, the other units and sources go on). Messages must never contain content,
subjects or detected values. Item error codes in :data:`scanner.core.model.RETRYABLE_ERRORS`
(``fetch_failed``, ``throttled``, ``unreachable``, ``offline``, ``locked``, ``access_denied``
...) mean "not this time": the pipeline fetches the item again in the next runs (whatever the
delta says), keeps its last good analysis meanwhile and never closes it for that; any other
code says what the item is. So a permission error on one file is ``access_denied``, never
``vanished`` or ``not_found``.

What a crawl could not see is never a deletion. Two ways to say so, both honoured by the
pipeline:

- :class:`~scanner.core.model.Blind` ``(item_prefix, code, message)`` from ``crawl``: part of the
  unit could not be listed (an unreadable subfolder, a folder that failed to SELECT, a 403).
  Nothing stored under ``item_prefix`` is closed this run, neither as unseen in this unit nor
  as part of a unit that vanished from :meth:`Connector.units` (``""`` protects the unit
  itself); the pipeline records a warning (``source_errors.severity = 'warning'``) naming the
  place, which does not count as a failing run. A delta unit that cannot read part of itself
  must not move its cursor past the changes it could not list.
- a unit key ending in ``"/*"`` from ``units``: listing *below* that prefix failed (a mailbox
  whose folders could not be listed, a share whose subfolders could not be read); no unit
  whose key starts with the prefix is closed as vanished. ``crawl`` of such a unit yields just
  ``Cursor(None)`` (or raises ``SourceError`` to name the problem).

A :class:`~scanner.core.model.Resync` from ``crawl`` (the stored cursor was refused) makes that
crawl a full listing: what it does not list is closed, what reappears under another key is a
move. Separately, any listing that would close more than ``scan.outage_share`` of a unit or
source is held back as a suspected outage (docs/operations.md).

Connectors are constructed from their (picklable) configuration in whichever process runs
them, so the same source can be crawled on the driver and fetched on a Dask worker.

The configuration base of the whole application (``StrictModel``, ``SecretRef``) is not here
but on the ground floor, :mod:`scanner.core.config_base`: settings are not a connector matter.
"""

from __future__ import annotations

import abc
import fnmatch
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from scanner.core.config_base import StrictModel
from scanner.core.model import CrawlStream, Exposure, Fetched, ItemRef, Unit, container_of

log = logging.getLogger(__name__)


class SourceError(Exception):
    """A unit or a whole source could not be crawled (unreachable, access denied, bad token).

    ``code`` is a stable key (``unreachable``, ``auth_failed``, ``access_denied``,
    ``throttled``, ``not_found``, ``protocol``, ``tls_failed``; EWS adds ``mailbox_moving``,
    ``unavailable``, ``quota_exceeded``, ``server_error``; local sources add ``empty`` (a root that lists nothing:
    an unmounted mount point), ``not_mbox``, ``not_maildir``); ``str(error)`` is a Dutch-first description
    that names the source or folder but never content.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ItemFetchError(Exception):
    """One item's content could not be fetched; the crawl continues.

    Codes: ``too_large``, ``not_found``, ``vanished``, ``access_denied``, ``locked``,
    ``offline``, ``fetch_failed``, ``action_failed``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    @classmethod
    def too_large(cls, limit: int) -> ItemFetchError:
        """The one wording of "refused before reading, larger than the limit" (every connector
        refuses oversized items the same way, so IT reads the same line in every report)."""
        return cls("too_large",
                   f"item groter dan {limit} bytes, niet gelezen / item larger than {limit} bytes, not read")


def close_all(connectors: Iterable[Connector | None]) -> None:
    """Close every connector an action opened (``None``: one that could not be built). A
    failing close is logged without its message and never hides the outcome of the action."""
    for connector in connectors:
        if connector is not None:
            try:
                connector.close()
            except Exception:  # noqa: BLE001 - closing never hides the outcome
                log.warning("closing a connector failed")


def refuse_contained(ref: ItemRef) -> None:
    """A mail inside a .pst/.ost cannot be moved on its own by a file source (the archive is
    one file, and schoonschip never writes into it): an honest ``action_failed``, never an
    "already gone" because no file has that key."""
    if container_of(ref.item_key) is not None:
        raise ItemFetchError("action_failed", "een mail in een Outlook-archief (.pst) kan niet apart worden "
                                              "verplaatst; open het archief in Outlook / a mail inside an Outlook "
                                              "archive (.pst) cannot be moved on its own; open the archive in Outlook")


class SourceConfig(StrictModel):
    """Settings every source has. Connector modules subclass this with their own fields and
    a ``kind`` literal."""

    name: str = Field(description="Unique name of the source, used in reports and the store.")
    kind: str
    enabled: bool = True
    owner: str | None = Field(
        default=None,
        description="Teacher (e-mail address) the items belong to when the source cannot tell.",
    )
    department: str | None = Field(
        default=None, description="School or department, for the FG's grouping (afdeling/school)."
    )
    include: list[str] = Field(default_factory=list, description="Glob patterns to include.")
    exclude: list[str] = Field(default_factory=list, description="Glob patterns to skip.")

    def wants(self, path: str) -> bool:
        """Apply include/exclude globs to a folder or file path (case-insensitive)."""
        lowered = path.lower()
        if self.include and not any(fnmatch.fnmatch(lowered, p.lower()) for p in self.include):
            return False
        return not any(fnmatch.fnmatch(lowered, p.lower()) for p in self.exclude)


class ConnectorContext(BaseModel):
    """What the pipeline tells a connector about the run (picklable, no open handles)."""

    model_config = ConfigDict(frozen=True)

    max_item_bytes: int = 100 * 1024 * 1024
    state_dir: str | None = None
    """A private directory for connector caches (token caches). Never holds content."""
    user_agent: str = "schoonschip"


class Connector(abc.ABC):
    """Base class of all connectors. See the module docstring for the protocol."""

    kind: ClassVar[str]
    config_model: ClassVar[type[SourceConfig]]
    parallel_units: ClassVar[bool] = False
    """Whether units of this source may be crawled at the same time, each by its own instance
    of the connector (the pipeline then interleaves up to a few units). Only for sources whose
    units are independent (Graph users, local folders); not where units share one connection
    or a selected folder (IMAP, EWS)."""

    def __init__(self, config: SourceConfig, context: ConnectorContext | None = None) -> None:
        self.config = config
        self.context = context or ConnectorContext()
        self.warnings: list[tuple[str, str, str]] = []
        """Non-fatal problems met while crawling (unit key, code, message): a subfolder with
        access denied, a file that vanished. The pipeline records them as source warnings
        (severity 'warning': reported, not a failing run) after each unit and clears the list;
        the crawl itself goes on. A warning protects nothing: what could not be listed must be a
        :class:`~scanner.core.model.Blind` event."""

    def sibling(self) -> Connector:
        """A second connector of this source, to crawl another unit beside this one's (asked
        only of connectors with :attr:`parallel_units`). It shares what :meth:`units` learnt
        and any client (folder ids, a signed-in session: the driver crawls in one thread, its
        lanes take turns and never overlap) and has its own :attr:`warnings`, flushed with the
        unit its lane crawls. Closed like this one (:meth:`close` of a shared client must then
        be harmless twice)."""
        twin = object.__new__(type(self))  # not copy.copy: __getstate__ keeps only the config
        twin.__dict__.update(self.__dict__)
        twin.warnings = []
        return twin

    def warn(self, unit_key: str, code: str, message: str) -> None:
        """Record a non-fatal crawl problem (never put content or file names in ``message``)."""
        self.warnings.append((unit_key, code, message))

    @property
    def name(self) -> str:
        return self.config.name

    # Connectors travel to other processes (pool, Dask) by configuration only: sessions,
    # sockets, tokens and caches stay behind and the copy reconnects lazily.
    def __getstate__(self) -> dict[str, Any]:
        return {"config": self.config, "context": self.context}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["config"], state["context"])  # type: ignore[misc]

    @abc.abstractmethod
    def units(self) -> Iterator[Unit]:
        """List the independent units of work of this source."""

    def plan(self, units: Sequence[Unit], cursors: Mapping[str, str | None]) -> None:  # noqa: B027
        """A hint before crawling: these units will be crawled, about in this order, from these
        stored cursors. A connector may prepare for it (Graph sends the first delta requests of
        up to 20 folders in one JSON batch); it must not rely on it (a unit may be crawled
        without a plan, or not at all when the run stops). Default: nothing."""

    @abc.abstractmethod
    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        """Stream the changes in ``unit`` since ``cursor`` (``None``: a full crawl).

        Must end with exactly one :class:`~scanner.core.model.Cursor` event once the unit was fully
        listed. If the stored cursor is no longer valid (expired delta token, changed
        UIDVALIDITY) the connector falls back to a full crawl by itself and says so with a
        :class:`~scanner.core.model.Resync` event first, then ``Seen`` events for everything that
        exists; the pipeline keeps stored findings of unchanged items and closes the rest.
        Parts it cannot list are :class:`~scanner.core.model.Blind` events (module docstring).
        """

    @abc.abstractmethod
    def fetch(self, ref: ItemRef) -> Fetched:
        """Return the content of one item (MIME bytes for mail, file bytes for files)."""

    # Optional capabilities ---------------------------------------------------------------

    def exposure(self, ref: ItemRef) -> Exposure | None:
        """Who besides the owner can reach the item (sharing links, ACL), or ``None`` when the
        source has no sharing of its own (a mailbox, an export file).

        Called only for items the pipeline analyses (new or changed) and for items whose
        ``ref.sharing_key`` moved, never for an unchanged item: reading sharing costs a request
        per item. Never raises and never guesses: what could not be read is
        ``Exposure.unknown()``, not private."""
        return None

    def set_label(self, ref: ItemRef, label: str, present: bool = True) -> str | None:
        """Add or remove a label (Outlook category, IMAP keyword) on an item.

        Returns the item's new change key when setting the label changed it (Graph and EWS
        bump the changeKey), so the pipeline can store it and not re-analyse the item because
        of its own label; ``None`` when the change key did not change. Only connectors that
        support mailbox actions override this; actions are off by default.
        """
        raise NotImplementedError(f"{self.kind} ondersteunt geen labels / does not support labels")

    @classmethod
    def supports_labels(cls) -> bool:
        return cls.set_label is not Connector.set_label

    def remove(self, ref: ItemRef) -> str:
        """Move one item out of the teacher's way at the source: to Verwijderde items / Trash
        for mail, to the source's configured quarantine folder for files. Never a hard delete:
        a teacher's answer must stay reversible, and the place it went is where they look.

        Idempotent: an item that is already there, or already gone, returns normally (an action
        may be retried after a timeout whose first attempt did arrive). Returns where the item
        went, as a short text without any value from the item (e.g. "Verwijderde items").
        Raises :class:`ItemFetchError` when the source refuses or fails (retryable codes as for
        fetching). Only connectors that can act override this.
        """
        raise NotImplementedError(f"{self.kind} kan niet verwijderen / cannot remove items")

    @classmethod
    def supports_remove(cls) -> bool:
        return cls.remove is not Connector.remove

    def restore(self, ref: ItemRef) -> str:
        """Put an item :meth:`remove` moved back where it was (a teacher's undo within
        ``answers.undo_days``). ``ref`` is the item as it was stored before the move.

        Idempotent: an item that is back already returns normally. Never overwrites what now
        has the item's place. Returns where it went back to, as a short text without any value
        from the item. An item no longer where :meth:`remove` put it (the recycle place was
        emptied, the teacher moved it) is :class:`ItemFetchError` ``not_found``: the page then
        tells the teacher to put it back by hand. Only connectors that can override this.
        """
        raise NotImplementedError(f"{self.kind} kan niet terugzetten / cannot restore items")

    @classmethod
    def supports_restore(cls) -> bool:
        return cls.restore is not Connector.restore

    def close(self) -> None:  # noqa: B027 - optional hook: most connectors hold nothing
        """Release connections. Called once when the pipeline is done with the connector."""

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

