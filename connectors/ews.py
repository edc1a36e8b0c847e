"""Exchange Server on premises through EWS (exchangelib).

Exchange Online is reached through Microsoft Graph (``connectors.graph``); EWS is for the
schools that still run their own Exchange 2013/2016/2019, which have no Graph.

One source is one EWS endpoint with one service account and a list of mailboxes, each
reached by impersonation (the ApplicationImpersonation role, the normal set-up) or delegate
access. Every mail folder under the mailbox's message-folder root (``msgfolderroot``:
Inbox, Verzonden items, Verwijderde items, sub-folders) is a :class:`~scanner.core.model.Unit`
keyed ``"<mailbox>/<folder path>"``, the path built from folder ids with every name escaped
(:func:`escape_folder_name`), so a name holding ``/`` never collides with a nested folder.

With ``archive: true`` the mailbox's In-Place Archive (distinguished folder
``archivemsgfolderroot``, where retention policies move old mail) is read too: its mail folders
are units keyed ``"<mailbox>/%archief/<folder path>"`` and labelled ``"Online archief/<path>"``.
``%archief`` can never be an escaped folder name (an escaped name holds ``%`` only as ``%25``
or ``%2F``), so an archive unit never collides with a primary folder, not even one called
"Archief"; primary-mailbox keys are unchanged. A mailbox without an archive answers
``ErrorFolderNotFound`` for the distinguished folder: that is normal and gives no unit.

Why these choices:

* Autodiscover and version probing are skipped: the endpoint and the Exchange build come
  from the configuration, so a run makes no guesses at 03:00 and needs no DNS tricks.
* The folder tree is read with one paged ``FindFolder`` (deep traversal) under
  ``msgfolderroot`` instead of exchangelib's ``walk()``, which first resolves ~60
  well-known folders of the whole mailbox (calendar, search folders, ...) that are never
  scanned. Only mail folders (folder class ``IPF.Note*``) become units.
* Crawling uses ``SyncFolderItems`` (exchangelib ``sync_items``): deletions arrive as
  explicit ``Delete`` changes, so units are not full listings. The sync state is the
  cursor and is handed out only after exchangelib consumed the last page
  (``IncludesLastItemInRange``); an interrupted crawl repeats from the previous state. The
  cursor also names the folder id; an invalid state (``ErrorInvalidSyncStateData``) or another
  folder under the unit's path is a ``Resync``: a sync from scratch that the pipeline treats as
  a full listing.
* Exchange's documented response codes are mapped to what happened (``_RESPONSE_CODES``):
  a mailbox move is ``mailbox_moving``, not ``unreachable``.
* ``ErrorServerBusy`` and HTTP 503/429 are retried by exchangelib's ``FaultTolerance``,
  which honours the server's ``BackOffMilliseconds`` hint; a back-off longer than
  ``max_wait`` gives up with ``SourceError("throttled")`` instead of hanging the night.
* Content (MIME, which includes the attachments) is fetched only in :meth:`fetch`.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from exchangelib import FaultTolerance
from exchangelib.errors import UnauthorizedError
from pydantic import Field, model_validator

from connectors.base import (
    Connector,
    ConnectorContext,
    ItemFetchError,
    SourceConfig,
    SourceError,
)
from scanner.core.config_base import SecretRef, StrictModel
from scanner.core.model import (
    CrawlStream,
    Cursor,
    Fetched,
    Gone,
    ItemKind,
    ItemRef,
    Resync,
    Seen,
    Unit,
)

log = logging.getLogger(__name__)

_SYNC_FIELDS = ["subject", "datetime_received", "datetime_created", "size", "categories"]
_MAIL_FOLDER_CLASS = "ipf.note"


class EwsOAuth(StrictModel):
    """App registration in Entra ID for hybrid set-ups with modern authentication."""

    client_id: str
    tenant_id: str
    client_secret: SecretRef


class EwsConfig(SourceConfig):
    """One Exchange server (EWS endpoint), one service account, several mailboxes."""

    kind: Literal["ews"] = "ews"
    service_endpoint: str = Field(description="e.g. https://mail.school.nl/EWS/Exchange.asmx")
    auth: Literal["ntlm", "basic", "oauth"] = "ntlm"
    username: str | None = Field(default=None, description="DOMEIN\\svc-schoonschip or a UPN.")
    password: SecretRef | None = None
    oauth: EwsOAuth | None = None
    access: Literal["impersonation", "delegate"] = "impersonation"
    mailboxes: list[str] = Field(min_length=1, description="Primary SMTP addresses to scan.")
    exchange_version: str = Field(
        default="15.1", description="Exchange build: 15.0 = 2013, 15.1 = 2016, 15.2 = 2019."
    )
    ca_file: Path | None = Field(default=None, description="Trust this CA (PEM) for the endpoint.")
    owa_url: str | None = Field(
        default=None, description="OWA base URL for links in digests, e.g. https://mail.school.nl/owa"
    )
    max_wait: float = Field(
        default=300.0, gt=0, description="Longest single back-off (seconds) accepted when throttled."
    )
    page_size: int = Field(default=200, ge=1, le=512, description="Changes per SyncFolderItems call.")
    max_connections: int = Field(default=4, ge=1, le=16)
    archive: bool = Field(
        default=False,
        description="Also scan each mailbox's In-Place Archive (Online archief); same rights as the mailbox.",
    )

    @model_validator(mode="after")
    def _check(self) -> EwsConfig:
        if self.auth in ("ntlm", "basic") and (self.username is None or self.password is None):
            raise ValueError(
                f"auth '{self.auth}' vraagt om 'username' en 'password' / needs 'username' and 'password'"
            )
        if self.auth == "oauth" and self.oauth is None:
            raise ValueError("auth 'oauth' vraagt om een 'oauth'-blok / auth 'oauth' needs an 'oauth' block")
        parts = urlsplit(self.service_endpoint)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("service_endpoint moet een https-URL zijn / service_endpoint must be an https URL")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise ValueError(
                "onversleuteld http mag alleen op loopback / plain http is only allowed on loopback"
            )
        for mailbox in self.mailboxes:
            if "@" not in mailbox or "/" in mailbox:
                raise ValueError(f"'{mailbox}' is geen e-mailadres / is not an e-mail address")
        _parse_build(self.exchange_version)
        if self.ca_file is not None and not Path(self.ca_file).is_file():
            raise ValueError(f"bestand {self.ca_file} bestaat niet / file {self.ca_file} does not exist")
        return self


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse_build(text: str) -> tuple[int, ...]:
    try:
        numbers = tuple(int(p) for p in text.split("."))
    except ValueError:
        numbers = ()
    if not 2 <= len(numbers) <= 4:
        raise ValueError(
            f"exchange_version '{text}' moet lijken op 15.1 / exchange_version must look like 15.1"
        )
    return numbers


class _RetryPolicy(FaultTolerance):
    """exchangelib's FaultTolerance, except that HTTP 401 means a wrong password.

    exchangelib retries 401 as if it were throttling, which turns a wrong password into
    minutes of exponential back-off and then a misleading "throttled" error. On-premises
    Exchange answers bad NTLM/basic credentials with 401, so we fail at once with
    ``auth_failed``; a rare throttling 401 is retried by the next run.
    """

    def raise_response_errors(self, response: Any) -> None:
        if response.status_code == 401:
            raise UnauthorizedError(f"HTTP 401 from {urlsplit(response.url).hostname}")
        return super().raise_response_errors(response)


# --- trusting a private CA ------------------------------------------------------------------
# exchangelib builds its HTTP adapters from one class attribute, so a per-endpoint CA is kept
# in a process-wide map (host:port -> CA file) that a small adapter subclass consults. Other
# endpoints keep the system trust store.

_CA_FILES: dict[str, str] = {}
_CA_LOCK = threading.Lock()


def _netloc(url: str) -> str:
    parts = urlsplit(url)
    return f"{(parts.hostname or '').lower()}:{parts.port or 443}"


def _install_ca(endpoint: str, ca_file: Path) -> None:
    import requests.adapters
    from exchangelib.protocol import BaseProtocol

    class _CaAdapter(requests.adapters.HTTPAdapter):
        def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
            super().cert_verify(conn, url, _CA_FILES.get(_netloc(url), verify), cert)

    with _CA_LOCK:
        _CA_FILES[_netloc(endpoint)] = str(ca_file)
        if not getattr(BaseProtocol.HTTP_ADAPTER_CLS, "_schoonschip", False):
            _CaAdapter._schoonschip = True  # type: ignore[attr-defined]
            BaseProtocol.HTTP_ADAPTER_CLS = _CaAdapter


# --- the connector ----------------------------------------------------------------------------


class EwsConnector(Connector):
    """Crawl and fetch mail folders of on-premises Exchange mailboxes; see module docstring."""

    kind = "ews"
    config_model = EwsConfig
    config: EwsConfig

    def __init__(self, config: EwsConfig, context: ConnectorContext | None = None) -> None:
        super().__init__(config, context)
        self._configuration: Any = None
        self._accounts: dict[str, Any] = {}
        self._folders: dict[tuple[str, bool], dict[str, Any]] = {}
        self._lock = threading.Lock()

    # --- connection ----------------------------------------------------------------------

    def _config(self) -> Any:
        """The exchangelib Configuration: endpoint, version and retry policy fixed, so no
        autodiscover and no version probing happen."""
        if self._configuration is not None:
            return self._configuration
        from exchangelib import BASIC, NTLM, OAUTH2, Build, Configuration, Credentials, Version

        cfg = self.config
        if cfg.ca_file is not None:
            _install_ca(cfg.service_endpoint, cfg.ca_file)
        credentials = None
        if cfg.auth in ("ntlm", "basic"):
            credentials = Credentials(cfg.username, cfg.password.get())  # type: ignore[union-attr]
        self._configuration = Configuration(
            service_endpoint=cfg.service_endpoint,
            credentials=credentials,
            auth_type={"ntlm": NTLM, "basic": BASIC, "oauth": OAUTH2}[cfg.auth],
            version=Version(build=Build(*_parse_build(cfg.exchange_version))),
            retry_policy=_RetryPolicy(max_wait=cfg.max_wait),
            max_connections=cfg.max_connections,
        )
        return self._configuration

    def _account(self, mailbox: str) -> Any:
        with self._lock:
            if mailbox in self._accounts:
                return self._accounts[mailbox]
            from exchangelib import (
                DELEGATE,
                IMPERSONATION,
                Account,
                Configuration,
                Identity,
                OAuth2Credentials,
            )

            cfg = self.config
            config = self._config()
            if cfg.auth == "oauth":
                # OAuth credentials carry the impersonated identity, so one config per mailbox.
                oauth = cfg.oauth
                credentials = OAuth2Credentials(
                    client_id=oauth.client_id,  # type: ignore[union-attr]
                    client_secret=oauth.client_secret.get(),  # type: ignore[union-attr]
                    tenant_id=oauth.tenant_id,  # type: ignore[union-attr]
                    identity=Identity(primary_smtp_address=mailbox),
                )
                config = Configuration(
                    service_endpoint=config.service_endpoint,
                    credentials=credentials,
                    auth_type=config.auth_type,
                    version=config.version,
                    retry_policy=config.retry_policy,
                    max_connections=config.max_connections,
                )
            account = Account(
                primary_smtp_address=mailbox,
                config=config,
                autodiscover=False,
                access_type=IMPERSONATION if cfg.access == "impersonation" else DELEGATE,
                default_timezone=None,
                locale="nl_NL",
            )
            self._accounts[mailbox] = account
            return account

    def close(self) -> None:
        for account in self._accounts.values():
            try:
                account.protocol.close()
            except Exception:  # noqa: BLE001 - closing idle sessions may fail; nothing to do
                pass
        self._accounts.clear()
        self._folders.clear()

    # --- folders -------------------------------------------------------------------------

    def _mail_folders(self, mailbox: str, archive: bool = False) -> dict[str, Any]:
        """Escaped folder path (``Inbox/Klas 3B``) -> exchangelib folder, for the mail folders
        of one mailbox (``archive``: of its In-Place Archive, below ``archivemsgfolderroot``);
        one GetFolder and one paged deep FindFolder, cached for this process. A mailbox
        without an archive has no archive folders (``ErrorFolderNotFound``), which is no error.

        The tree is built by folder id (each folder's path from its parents' ids), and every
        name is escaped with :func:`escape_folder_name`, so a folder called ``A/B`` and a folder
        ``B`` inside ``A`` are two units, not one path of which only one would be scanned."""
        if (mailbox, archive) in self._folders:
            return self._folders[(mailbox, archive)]
        from exchangelib.errors import ErrorFolderNotFound
        from exchangelib.fields import FieldPath
        from exchangelib.folders import (
            ArchiveMsgFolderRoot,
            Folder,
            FolderCollection,
            MsgFolderRoot,
        )

        try:
            account = self._account(mailbox)
            if archive:
                try:
                    root = ArchiveMsgFolderRoot.get_distinguished(root=account.root)
                except ErrorFolderNotFound:
                    self._folders[(mailbox, archive)] = {}
                    return {}
            else:
                root = MsgFolderRoot.get_distinguished(root=account.root)
            fields = {
                FieldPath(field=Folder.get_field_by_fieldname(name))
                for name in ("name", "folder_class", "parent_folder_id")
            }
            found = list(
                FolderCollection(account=account, folders=[root]).find_folders(
                    depth="Deep", additional_fields=fields, page_size=500
                )
            )
        except Exception as exc:
            raise _source_error(exc, f"postvak {mailbox}", f"mailbox {mailbox}") from exc
        by_id = {}
        for folder in found:
            if isinstance(folder, Exception):
                raise _source_error(folder, f"postvak {mailbox}", f"mailbox {mailbox}")
            by_id[folder.id] = folder
        paths: dict[str, Any] = {}
        for folder_id, folder in sorted(by_id.items()):
            if not (folder.folder_class or "IPF.Note").lower().startswith(_MAIL_FOLDER_CLASS):
                continue
            path = _folder_path(folder, by_id, root.id)
            if path in paths:  # two folders one name (Exchange forbids it among siblings)
                path = f"{path}~{folder_id[-8:]}"
            paths[path] = folder
        self._folders[(mailbox, archive)] = paths
        return paths

    def units(self) -> Iterator[Unit]:
        """The mail folders of every mailbox, then (``archive: true``) those of its archive.
        Include/exclude patterns see an archive folder by its label (``Online archief/...``)."""
        for mailbox in self.config.mailboxes:
            for archive in (False, True) if self.config.archive else (False,):
                try:
                    paths = sorted(self._mail_folders(mailbox, archive))
                except SourceError as exc:
                    if not archive:
                        raise
                    # An archive on a store that is away must not cost the primary mailboxes:
                    # one "/*" unit stands for it (nothing under it is closed) and names it.
                    log.warning("archive folder listing failed for a mailbox: %s", exc.code)
                    yield Unit(key=f"{mailbox}/{ARCHIVE_SEGMENT}/*", label=ARCHIVE_LABEL, owner=mailbox,
                               concurrency_key=mailbox, full_listing=False)
                    continue
                for path in paths:
                    label = f"{ARCHIVE_LABEL}/{path}" if archive else path
                    if not self.config.wants(label):
                        continue
                    yield Unit(
                        key=f"{mailbox}/{ARCHIVE_SEGMENT}/{path}" if archive else f"{mailbox}/{path}",
                        label=label,
                        owner=mailbox,
                        concurrency_key=mailbox,
                        full_listing=False,
                    )

    def _split(self, unit_key: str) -> tuple[str, str]:
        mailbox, _, path = unit_key.partition("/")
        if mailbox not in self.config.mailboxes:
            raise SourceError(
                "not_found", "postvak hoort niet bij deze bron / mailbox does not belong to this source"
            )
        return mailbox, path

    def _locate(self, unit_key: str) -> tuple[str, bool, str]:
        """``(mailbox, in the archive, folder path)`` of a unit key."""
        mailbox, path = self._split(unit_key)
        segment, sep, rest = path.partition("/")
        if segment == ARCHIVE_SEGMENT and sep:
            return mailbox, True, rest
        return mailbox, False, path

    def _folder(self, unit_key: str, fresh: bool = False) -> Any:
        """The folder behind a unit; ``fresh`` reads the folder tree again (after the server
        said the folder we hold is gone)."""
        mailbox, archive, path = self._locate(unit_key)
        if fresh:
            self._folders.pop((mailbox, archive), None)
        folder = self._mail_folders(mailbox, archive).get(path)
        if folder is None:
            raise SourceError("not_found", f"map {path} bestaat niet (meer) / folder {path} does not exist")
        return folder

    # --- crawl ---------------------------------------------------------------------------

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        """SyncFolderItems from the stored sync state; a state the server no longer accepts,
        or one that belongs to another folder than the one behind the unit now, is a
        :class:`~scanner.core.model.Resync`: a SyncFolderItems from scratch, which the pipeline
        treats as a full listing (items not listed again are closed)."""
        from exchangelib.errors import (
            ErrorFolderNotFound,
            ErrorInvalidSyncStateData,
            ErrorSyncFolderNotFound,
        )

        mailbox, _ = self._split(unit.key)
        where = (f"map {unit.label} van {mailbox}", f"folder {unit.label} of {mailbox}")
        if unit.key == f"{mailbox}/{ARCHIVE_SEGMENT}/*":
            self._folders.pop((mailbox, True), None)
            self._mail_folders(mailbox, True)  # raises the archive's error when it persists
            raise SourceError("unreachable", f"{ARCHIVE_LABEL} van {mailbox}: mappen waren niet op te halen;"
                              f" volgende run opnieuw / online archive of {mailbox}: folders could not be listed;"
                              " retried next run")
        folder = self._folder(unit.key)
        stored_folder, state = _parse_cursor(cursor)
        try:
            if state and stored_folder and stored_folder != folder.id:
                # The path now names another folder (deleted and made again, or a rename swap):
                # the stored state is the other folder's; start this one from scratch.
                yield Resync("folder_replaced")
                state = None
            try:
                changes, first = self._sync(folder, state)
            except ErrorInvalidSyncStateData:
                yield Resync("sync_state_invalid")
                self.warn(unit.key, "cursor_reset", "synchronisatiestatus ongeldig; volledige sync"
                          " / sync state invalid; full sync")
                changes, first = self._sync(folder, None)
            except (ErrorSyncFolderNotFound, ErrorFolderNotFound):
                # The folder we hold is gone; the tree may hold a new folder under the same path.
                replacement = self._folder(unit.key, fresh=True)  # not_found when really gone
                if replacement.id == folder.id:
                    raise
                folder = replacement
                yield Resync("folder_replaced")
                changes, first = self._sync(folder, None)
            for change_type, item in _chain([first] if first is not None else [], changes):
                event = self._event(unit, mailbox, change_type, item)
                if event is not None:
                    yield event
        except SourceError:
            raise
        except Exception as exc:
            raise _source_error(exc, *where) from exc
        # exchangelib sets item_sync_state only once the last page was consumed.
        yield Cursor(f"{folder.id} {folder.item_sync_state}" if folder.item_sync_state else None)

    def _sync(self, folder: Any, state: str | None) -> tuple[Iterator[Any], Any]:
        """Start a SyncFolderItems and read its first change, so a refused state is raised
        here, before anything was yielded for the unit."""
        # exchangelib falls back to the state cached on the folder object when given None;
        # a crawl without state must really start from scratch.
        folder.item_sync_state = state
        changes = folder.sync_items(
            sync_state=state, only_fields=_SYNC_FIELDS, max_changes_returned=self.config.page_size
        )
        return changes, next(changes, None)

    def _event(self, unit: Unit, mailbox: str, change_type: str, item: Any) -> Seen | Gone | None:
        from exchangelib.services import SyncFolderItems

        if change_type in (SyncFolderItems.CREATE, SyncFolderItems.UPDATE):
            return Seen(self._ref(unit, mailbox, item))
        if change_type == SyncFolderItems.DELETE:
            return Gone(item.id)
        return None  # read_flag_change: content and metadata we keep are unchanged

    def _ref(self, unit: Unit, mailbox: str, item: Any) -> ItemRef:
        # Drafts have no received time; their creation time is the next best age.
        received = getattr(item, "datetime_received", None) or getattr(item, "datetime_created", None)
        date = (
            datetime.fromtimestamp(received.timestamp(), tz=UTC)
            if received is not None
            else datetime.fromtimestamp(0, tz=UTC)
        )
        link = None
        if self.config.owa_url:
            link = (
                f"{self.config.owa_url.rstrip('/')}/?ItemID={quote(item.id, safe='')}"
                "&exvsurl=1&viewmodel=ReadMessageItem"
            )
        return ItemRef(
            source=self.config.name,
            item_key=item.id,
            kind=ItemKind.MAIL,
            owner=mailbox,
            folder=unit.label,
            title=str(getattr(item, "subject", None) or ""),
            date=date,
            size=getattr(item, "size", None),
            change_key=item.changekey,
            link=link,
            unit_key=unit.key,
            labels=tuple(getattr(item, "categories", None) or ()),
        )

    # --- fetch ---------------------------------------------------------------------------

    def _get_item(self, ref: ItemRef, fields: list[str]) -> Any:
        from exchangelib.properties import ItemId

        mailbox, _ = self._split(ref.unit_key) if ref.unit_key else (ref.owner, "")
        try:
            result = list(self._account(mailbox).fetch(ids=[ItemId(id=ref.item_key)], only_fields=fields))
        except Exception as exc:
            raise _item_error(exc) from exc
        item = result[0] if result else None
        if item is None:
            raise ItemFetchError("not_found", "bericht niet gevonden / message not found")
        if isinstance(item, Exception):
            raise _item_error(item)
        return item

    def fetch(self, ref: ItemRef) -> Fetched:
        if ref.size is not None and ref.size > self.context.max_item_bytes:
            raise ItemFetchError.too_large(self.context.max_item_bytes)
        item = self._get_item(ref, ["mime_content"])
        data = item.mime_content or b""
        if isinstance(data, str):
            data = data.encode("utf-8")
        return Fetched(name="bericht.eml", size=len(data), media_type="message/rfc822", data=bytes(data))

    # --- optional actions ----------------------------------------------------------------

    def set_label(self, ref: ItemRef, label: str, present: bool = True) -> str | None:
        """Add or remove an Outlook category (UpdateItem on the categories field only).

        Reads the current categories first, so a category the teacher set meanwhile is kept.
        A category change moves the EWS ChangeKey; the new one is returned (``None`` when
        nothing had to change) so the caller can store it and the next run does not analyse
        the message again because of its own label (same contract as the Graph connector).
        """
        item = self._get_item(ref, ["categories"])
        categories = list(item.categories or [])
        if present and label not in categories:
            categories.append(label)
        elif not present and label in categories:
            categories.remove(label)
        else:
            return None
        item.categories = categories or None
        try:
            item.save(update_fields=["categories"])
        except Exception as exc:
            raise ItemFetchError(
                "action_failed", f"categorie zetten mislukt / setting category failed: {type(exc).__name__}"
            ) from exc
        return item.changekey

    def remove(self, ref: ItemRef) -> str:
        """Move the message to Verwijderde items: one ``MoveItem`` to the distinguished folder
        ``deleteditems`` of its mailbox (no folder look-up first). Needs write access to the
        mailbox: ApplicationImpersonation (or FullAccess for delegate access).

        A moved message gets a new EWS ItemId, so a repeated move (a retry whose first try
        arrived) finds the old id gone: ``ErrorItemNotFound`` is success, as for a message the
        teacher deleted meanwhile. ``ErrorServerBusy`` is retried by the fault tolerance like
        every request. The next sync sees the message leave its folder and appear in
        Verwijderde items, which is scanned: the pipeline keeps it as the same item (moved)."""
        from exchangelib.properties import DistinguishedFolderId, ItemId, Mailbox

        try:
            mailbox, archive, _ = self._locate(ref.unit_key) if ref.unit_key else (ref.owner, False, "")
        except SourceError as exc:
            raise ItemFetchError("action_failed", str(exc)) from None
        # A message in the archive goes to the archive's own Verwijderde items, so it never
        # leaves the archive (and its retention) through our hands.
        trash = DistinguishedFolderId(id="archivedeleteditems" if archive else "deleteditems",
                                      mailbox=Mailbox(email_address=mailbox))
        done = ARCHIVE_DELETED_ITEMS if archive else DELETED_ITEMS
        try:
            results = self._account(mailbox).bulk_move(ids=[ItemId(id=ref.item_key)], to_folder=trash)
        except Exception as exc:
            if _error_code(exc) == "not_found" and type(exc).__name__ == "ErrorItemNotFound":
                return done
            raise _action_error(exc) from exc
        result = results[0] if results else None
        if isinstance(result, Exception):
            if type(result).__name__ == "ErrorItemNotFound":
                return done
            raise _action_error(result)
        return done

    def send_mime(self, mailbox: str, mime_bytes: bytes, save_copy: bool = True) -> None:
        """Send a ready-made MIME message from ``mailbox`` (used for digests)."""
        send_mime(self._account(mailbox), mime_bytes, save_copy=save_copy)


def send_mime(account: Any, mime_bytes: bytes, save_copy: bool = True) -> None:
    """Send a MIME message through EWS as ``account`` (CreateItem with MimeContent).

    Recipients come from the MIME headers. With ``save_copy`` the message is kept in the
    sender's Sent Items, which is the evidence that the digest went out.
    """
    from exchangelib import Message
    from exchangelib.folders import SentItems

    try:
        message = Message(account=account, mime_content=mime_bytes)
        if save_copy:
            message.send(save_copy=True, copy_to_folder=SentItems.get_distinguished(root=account.root))
        else:
            message.send(save_copy=False)
    except Exception as exc:
        raise _source_error(exc, "verzenden via EWS", "sending through EWS") from exc


# --- helpers -------------------------------------------------------------------------------


def _chain(first: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    yield from first
    yield from rest


def escape_folder_name(name: str) -> str:
    """A folder name as one path segment: ``%`` becomes ``%25`` and ``/`` becomes ``%2F`` (as
    Graph mail paths write ``/``), so a path names exactly one folder."""
    return name.replace("%", "%25").replace("/", "%2F")


def _folder_path(folder: Any, by_id: dict[str, Any], root_id: str) -> str:
    """The escaped path of ``folder`` below the message-folder root, from its parents' ids."""
    names, current, depth = [], folder, 0
    while current is not None and depth < 64:
        names.append(escape_folder_name(current.name or ""))
        parent = getattr(current.parent_folder_id, "id", None)
        current = by_id.get(parent) if parent is not None and parent != root_id else None
        depth += 1
    return "/".join(reversed(names))


def _parse_cursor(cursor: str | None) -> tuple[str | None, str | None]:
    """``(folder id, sync state)`` of a cursor ``"<folder id> <sync state>"``; a cursor of an
    older release holds only the sync state."""
    if not cursor:
        return None, None
    folder_id, sep, state = cursor.partition(" ")
    return (folder_id, state or None) if sep else (None, cursor)


# What each documented EWS ResponseCode (ResponseCodeType) means for us. exchangelib raises
# an exception class named after the code, so the class name is the code. Sources: Microsoft's
# ResponseCode reference and "Handling synchronization-related errors in EWS".
_RESPONSE_CODES: dict[str, str] = {
    # the server protects itself: wait and try again (BackOffMilliseconds is honoured first)
    "ErrorServerBusy": "throttled",
    "ErrorTimeoutExpired": "throttled",
    "ErrorTooManyObjectsOpened": "throttled",
    "ErrorExceededConnectionCount": "throttled",
    "ErrorInsufficientResources": "throttled",
    # the mailbox is being moved or failed over: transient, the next run tries again
    "ErrorMailboxMoveInProgress": "mailbox_moving",
    "ErrorMailboxFailover": "mailbox_moving",
    # a part of Exchange is away: transient
    "ErrorMailboxStoreUnavailable": "unavailable",
    "ErrorADUnavailable": "unavailable",
    "ErrorADOperation": "unavailable",
    "ErrorInternalServerTransientError": "unavailable",
    "ErrorNoApplicableProxyCASServersAvailable": "unavailable",
    "ErrorConnectionFailed": "unreachable",
    "ErrorQuotaExceeded": "quota_exceeded",
    "ErrorAccessDenied": "access_denied",
    "ErrorImpersonateUserDenied": "access_denied",
    "ErrorImpersonationDenied": "access_denied",
    "ErrorImpersonationFailed": "access_denied",
    "ErrorAccountDisabled": "auth_failed",
    "ErrorPasswordExpired": "auth_failed",
    "ErrorPasswordChangeRequired": "auth_failed",
    "ErrorNonExistentMailbox": "not_found",
    "ErrorFolderNotFound": "not_found",
    "ErrorSyncFolderNotFound": "not_found",
    "ErrorItemNotFound": "not_found",
    "ErrorInvalidSyncStateData": "resync",
    "ErrorItemCorrupt": "corrupt",
    "ErrorCorruptData": "corrupt",
    "ErrorMimeContentConversionFailed": "corrupt",
    "ErrorInternalServerError": "server_error",
}

DELETED_ITEMS = "Verwijderde items / Deleted Items"
"""Where a removed message goes (the distinguished folder ``deleteditems``)."""

ARCHIVE_DELETED_ITEMS = "Online archief: Verwijderde items / Online archive: Deleted Items"
"""Where a removed message of the archive goes (the distinguished folder ``archivedeleteditems``)."""

ARCHIVE_SEGMENT = "%archief"
"""The first path segment of an archive unit's key: never an escaped folder name."""

ARCHIVE_LABEL = "Online archief"
"""How an archive folder is shown (digests, reports): ``Online archief/<path>``."""

# Item errors: the transient codes become the item codes the pipeline fetches again next run.
_ITEM_CODES = {"throttled": "throttled", "mailbox_moving": "offline", "unavailable": "offline",
               "unreachable": "unreachable", "tls_failed": "unreachable", "access_denied": "access_denied",
               "auth_failed": "fetch_failed", "not_found": "not_found", "corrupt": "corrupt"}


def _error_code(exc: BaseException) -> str:
    """A stable code for an exchangelib/requests exception (names no content).

    Response codes are looked up first: exchangelib's ResponseMessageError derives from
    TransportError, and reading every unlisted code as ``unreachable`` was wrong words for
    what happened (issue 15)."""
    from exchangelib import errors

    if isinstance(exc, errors.RateLimitError):
        return "throttled"
    if isinstance(exc, errors.UnauthorizedError):
        return "auth_failed"
    if _caused_by_network(exc):
        # exchangelib re-raises a refused or reset connection as ErrorTimeoutExpired: no
        # server answered, so it is no response code.
        return "tls_failed" if _caused_by_tls(exc) else "unreachable"
    if isinstance(exc, errors.ResponseMessageError):
        return _RESPONSE_CODES.get(type(exc).__name__, "protocol")
    if isinstance(exc, (errors.TransportError, OSError)) or type(exc).__module__.startswith("requests"):
        return "tls_failed" if _caused_by_tls(exc) else "unreachable"
    return "protocol"


def _item_error(exc: BaseException) -> ItemFetchError:
    code = _ITEM_CODES.get(_error_code(exc), "fetch_failed")
    return ItemFetchError(code, f"bericht ophalen mislukt / fetching message failed ({type(exc).__name__})")


def _action_error(exc: BaseException) -> ItemFetchError:
    """A failed move in the contract's words: transient codes stay retryable (throttled,
    offline, unreachable), no rights is ``access_denied``, anything else ``action_failed``."""
    code = _error_code(exc)
    item_code = _ITEM_CODES.get(code, "action_failed")
    if item_code in ("not_found", "corrupt", "fetch_failed"):
        item_code = "action_failed"
    text = _TEXT[code]
    return ItemFetchError(item_code, f"verplaatsen mislukt: {text[0]} / move failed: {text[1]} ({type(exc).__name__})")


def _chain_of(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _caused_by_network(exc: BaseException) -> bool:
    """True when a socket or HTTP transport failure is in the chain (requests' exceptions are
    OSErrors too)."""
    return any(isinstance(e, OSError) for e in _chain_of(exc))


def _caused_by_tls(exc: BaseException) -> bool:
    """True when a certificate or TLS handshake problem is somewhere in the exception chain
    (exchangelib re-raises connection errors as its own types)."""
    import ssl

    import requests.exceptions

    return any(isinstance(e, (ssl.SSLError, requests.exceptions.SSLError)) or "CERTIFICATE_VERIFY_FAILED" in str(e)
               for e in _chain_of(exc))


_TEXT = {
    "throttled": ("server te druk (throttling), later opnieuw", "server busy (throttling), retry later"),
    "mailbox_moving": ("postvak wordt verplaatst, volgende run opnieuw", "mailbox is being moved, retried next run"),
    "unavailable": ("Exchange tijdelijk niet beschikbaar, volgende run opnieuw",
                    "Exchange temporarily unavailable, retried next run"),
    "quota_exceeded": ("quotum van het postvak overschreden", "mailbox quota exceeded"),
    "auth_failed": ("aanmelden mislukt", "authentication failed"),
    "access_denied": ("geen toegang (impersonatie/rechten)", "access denied (impersonation/rights)"),
    "not_found": ("niet gevonden", "not found"),
    "resync": ("synchronisatiestatus ongeldig", "sync state invalid"),
    "corrupt": ("beschadigd in Exchange", "corrupt in Exchange"),
    "server_error": ("interne fout van Exchange", "Exchange internal error"),
    "unreachable": ("server niet bereikbaar", "server unreachable"),
    "tls_failed": ("TLS-certificaat niet vertrouwd (ca_file?)", "TLS certificate not trusted (ca_file?)"),
    "protocol": ("onverwacht antwoord van EWS", "unexpected EWS reply"),
}


def _source_error(exc: BaseException, where_nl: str, where_en: str) -> SourceError:
    """A unit or mailbox error in exact words; the exception name (the EWS ResponseCode) is
    kept in the message for IT, never content."""
    code = _error_code(exc)
    text = _TEXT[code]
    return SourceError(code, f"{where_nl}: {text[0]} / {where_en}: {text[1]} ({type(exc).__name__})")
