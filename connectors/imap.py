"""IMAP mailboxes (Google Workspace, hosting providers, Dovecot) through IMAPClient.

One source is one IMAP account. Every selectable folder is a :class:`~scanner.core.model.Unit`;
special-use folders (``\\Sent``, ``\\Trash``, ``\\Archive``) are ordinary units, so sent and
deleted mail is scanned too. Virtual folders that only repeat mail stored elsewhere
(Gmail's ``\\All``, ``\\Flagged``, ``\\Important``) are skipped by default, so one mail is
not reported three times.

How changes and deletions are noticed (issue 6, revised in issue 15): on a server that offers
QRESYNC (RFC 7162) a unit is a delta crawl. The cursor ``"uidvalidity:uidnext:highestmodseq"``
says where the folder stood; an unchanged HIGHESTMODSEQ costs no FETCH, and no EXAMINE either where
the server offers LIST-STATUS (RFC 5819: one listing gives every folder's STATUS), else one
``UID FETCH 1:* (...) (CHANGEDSINCE m VANISHED)`` lists new and changed messages and the
expunged UIDs (``Gone``). Without QRESYNC (Gmail, Outlook.com), without a usable cursor, or
after a UIDVALIDITY change, the unit is a full listing of cheap metadata (FLAGS,
INTERNALDATE, RFC822.SIZE and two header fields, in batches), announced with ``Resync`` where
the pipeline would otherwise not close what it did not see. A folder that refuses SELECT is a
``Blind`` spot: warned about, never taken for a deletion.

Item keys are ``"<folder>/<uidvalidity>:<uid>"`` (:func:`imap_item_key`): UIDVALIDITY is only
unique per folder. Content is only fetched (``BODY.PEEK[]``, in a read-only ``EXAMINE``
session, so ``\\Seen`` never changes) for items the pipeline decides to analyse. The content
behind a UID never changes, so ``change_key`` is ``"<uidvalidity>:<uid>"``: flag changes
update the labels without a re-download. Certificate and host name checks cannot be turned
off; ``ca_file`` trusts a private CA.

A teacher's "Verwijderen" (:meth:`ImapConnector.remove`) moves the message to the Trash. Trash
stays an ordinary unit, so the next scan finds the message there: the pipeline absorbs it as a
move (same content), the item keeps its owner's mark, and nothing counts as deleted until the
Trash is emptied.
"""

from __future__ import annotations

import email.header
import ipaddress
import logging
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from connectors.base import (
    Connector,
    ConnectorContext,
    ItemFetchError,
    SourceConfig,
    SourceError,
)
from scanner.core.config_base import SecretRef
from scanner.core.model import (
    Blind,
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

_HEADER_FIELDS = b"BODY[HEADER.FIELDS (SUBJECT MESSAGE-ID)]"
_META = ["UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "BODY.PEEK[HEADER.FIELDS (SUBJECT MESSAGE-ID)]"]
_VIRTUAL_FOLDERS = ["\\All", "\\Flagged", "\\Important"]
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


class ImapConfig(SourceConfig):
    """One IMAP account. Secrets are references (environment variable or file), never values."""

    kind: Literal["imap"] = "imap"
    host: str
    port: int | None = Field(default=None, ge=1, le=65535, description="Default 993 (tls) or 143.")
    security: Literal["tls", "starttls", "plain"] = Field(
        default="tls",
        description="tls = implicit TLS (993); starttls = upgrade on 143; plain only on loopback.",
    )
    ca_file: Path | None = Field(
        default=None,
        description="Trust this CA (PEM) for the server instead of the system's CAs (a private CA)."
        " Certificate and host name are always checked; there is no switch to turn that off.",
    )
    username: str
    auth: Literal["login", "xoauth2"] = "login"
    password: SecretRef | None = Field(default=None, description="App password for auth=login.")
    oauth_token: SecretRef | None = Field(
        default=None, description="OAuth2 access token for auth=xoauth2, refreshed by another process."
    )
    timeout: float = Field(default=60.0, gt=0)
    batch_size: int = Field(default=500, ge=1, le=10_000)
    skip_special_use: list[str] = Field(
        default_factory=lambda: list(_VIRTUAL_FOLDERS),
        description="Special-use folders not to scan (virtual duplicates by default).",
    )
    trash_folder: str | None = Field(
        default=None,
        description="Folder 'Verwijderen' moves mail to when the server marks no folder \\Trash "
        "(RFC 6154 SPECIAL-USE), e.g. 'INBOX.Trash' or 'Verwijderde items'. The marked folder wins.",
    )
    link_template: str | None = Field(
        default=None,
        description="Webmail link for digests, with {message_id} (URL-encoded), e.g. Gmail's "
        "'https://mail.google.com/mail/u/0/#search/rfc822msgid%3A{message_id}'.",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_tls_switch(cls, data: Any) -> Any:
        """``verify_tls: false`` once turned off certificate and host name checks for any host,
        silently: the password went to whoever answered. It is gone; say what to use instead
        rather than the generic 'extra inputs are not permitted'."""
        if isinstance(data, dict) and "verify_tls" in data:
            raise ValueError(
                "'verify_tls' bestaat niet meer: het certificaat en de hostnaam worden altijd"
                " gecontroleerd; vertrouw een eigen CA met 'ca_file: /pad/naar/ca.pem'"
                " / 'verify_tls' no longer exists: the certificate and host name are always checked;"
                " trust a private CA with 'ca_file: /path/to/ca.pem'"
            )
        return data

    @model_validator(mode="after")
    def _check(self) -> ImapConfig:
        if self.auth == "login" and self.password is None:
            raise ValueError("auth 'login' vraagt om 'password' / auth 'login' needs 'password'")
        if self.auth == "xoauth2" and self.oauth_token is None:
            raise ValueError("auth 'xoauth2' vraagt om 'oauth_token' / auth 'xoauth2' needs 'oauth_token'")
        if self.security == "plain" and not _is_loopback(self.host):
            raise ValueError(
                "onversleuteld IMAP mag alleen op loopback; gebruik tls of starttls"
                " / plain IMAP is only allowed on loopback; use tls or starttls"
            )
        if self.ca_file is not None and not Path(self.ca_file).is_file():
            raise ValueError(f"bestand {self.ca_file} bestaat niet / file {self.ca_file} does not exist")
        return self

    @property
    def mailbox(self) -> str:
        """The owner of the mail: the configured owner, else the login name."""
        return self.owner or self.username

    def effective_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ImapConnector(Connector):
    """Crawl and fetch one IMAP account; see the module docstring for the design."""

    kind = "imap"
    config_model = ImapConfig
    config: ImapConfig

    def __init__(self, config: ImapConfig, context: ConnectorContext | None = None) -> None:
        super().__init__(config, context)
        self._client: Any = None
        self._selected: tuple[str, bool] | None = None
        self._qresync = False
        """The server enabled QRESYNC (RFC 7162): units are delta crawls, not full listings."""
        self._uidvalidity: int | None = None
        self._listed: dict[str, dict[bytes, int]] = {}
        """STATUS of each folder as the last LIST-STATUS listing gave it (RFC 5819), by IMAP
        name; a crawl uses (and forgets) its folder's entry to skip the SELECT of a folder
        whose HIGHESTMODSEQ did not move."""
        self._trash: tuple[str, str] | None = None
        """(IMAP name, shown path) of the folder removed mail goes to, once looked up."""

    # --- connection ----------------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext:
        """Certificate chain and host name are always checked (``ca_file`` replaces the
        system's CAs, as for Graph and EWS); the handshake happens before any command, so a
        server with someone else's certificate never sees the login."""
        cfg = self.config
        return ssl.create_default_context(cafile=str(cfg.ca_file) if cfg.ca_file else None)

    def _connect(self) -> Any:
        """Open and authenticate the connection once; later calls reuse it."""
        if self._client is not None:
            return self._client
        from imapclient import IMAPClient
        from imapclient.exceptions import IMAPClientError, LoginError

        cfg = self.config
        where = f"{cfg.host}:{cfg.effective_port()}"
        client = None
        try:
            client = IMAPClient(
                cfg.host,
                port=cfg.effective_port(),
                ssl=cfg.security == "tls",
                ssl_context=self._ssl_context() if cfg.security == "tls" else None,
                timeout=cfg.timeout,
            )
            # IMAPClient sets imaplib's debug level to 5 so that imaplib formats every command
            # and response line ('%r' of each FETCH literal: every mail's bytes, and the LOGIN
            # line with its password) for its "imapclient.imaplib" logger, which the log set-up
            # keeps at WARNING anyway (scanner.logsetup: protocol lines can hold content). Level
            # 0: the lines are never formatted, which was ~10 % of an unchanged scan's CPU.
            client._imap.debug = 0
            if cfg.security == "starttls":
                client.starttls(self._ssl_context())
            if cfg.auth == "xoauth2":
                client.oauth2_login(cfg.username, cfg.oauth_token.get())  # type: ignore[union-attr]
            else:
                client.login(cfg.username, cfg.password.get())  # type: ignore[union-attr]
            capabilities = client.capabilities()
            if b"ENABLE" in capabilities and b"QRESYNC" in capabilities:
                # QRESYNC implies CONDSTORE: SELECT reports HIGHESTMODSEQ, and
                # FETCH ... (CHANGEDSINCE m VANISHED) answers with what changed and what went.
                self._qresync = b"QRESYNC" in {bytes(c).upper() for c in client.enable("QRESYNC")}
            elif b"ENABLE" in capabilities and b"CONDSTORE" in capabilities:
                client.enable("CONDSTORE")  # HIGHESTMODSEQ goes into the cursor
        except LoginError as exc:
            _quiet_logout(client)
            raise SourceError(
                "auth_failed",
                f"aanmelden bij IMAP-server {where} mislukt / IMAP login to {where} failed",
            ) from exc
        except ssl.SSLError as exc:
            _quiet_logout(client)
            raise SourceError(
                "tls_failed",
                f"TLS met IMAP-server {where} mislukt (certificaat?) / TLS with IMAP server {where}"
                f" failed (certificate?): {type(exc).__name__}",
            ) from exc
        except (TimeoutError, OSError) as exc:
            _quiet_logout(client)
            raise SourceError(
                "unreachable",
                f"IMAP-server {where} niet bereikbaar / IMAP server {where} unreachable: "
                f"{type(exc).__name__}",
            ) from exc
        except IMAPClientError as exc:
            _quiet_logout(client)
            raise SourceError(
                "protocol",
                f"IMAP-server {where} gaf een onverwacht antwoord / unexpected reply from IMAP"
                f" server {where}",
            ) from exc
        self._client = client
        return client

    def _drop(self) -> None:
        """Forget a connection that failed, so the next call starts afresh."""
        _quiet_logout(self._client)
        self._client = None
        self._selected = None
        self._uidvalidity = None
        self._trash = None

    def _select(self, folder: str, readonly: bool = True) -> dict[bytes, Any]:
        """SELECT/EXAMINE ``folder``; read-only (EXAMINE) unless a label is being written,
        so nothing the scanner does can set ``\\Seen``."""
        client = self._connect()
        if self._selected == (folder, readonly):
            return {b"UIDVALIDITY": self._uidvalidity}
        response = client.select_folder(folder, readonly=readonly)
        self._selected = (folder, readonly)
        self._uidvalidity = int(response[b"UIDVALIDITY"])
        return response

    def close(self) -> None:
        self._drop()

    # --- units ---------------------------------------------------------------------------

    def units(self) -> Iterator[Unit]:
        client = self._connect()
        skip = {flag.lower() for flag in self.config.skip_special_use}
        try:
            folders = self._list_with_status(client) if self._wants_list_status(client) else client.list_folders()
        except Exception as exc:
            self._drop()
            raise _source_error(exc, self.config.host, None) from exc
        owner = self.config.mailbox
        for flags, delimiter, name in sorted(folders, key=lambda f: f[2]):
            names = {_text(flag).lower() for flag in flags}
            if names & {"\\noselect", "\\nonexistent"}:
                continue
            if names & skip:
                continue
            path = _folder_path(name, delimiter)
            if not self.config.wants(path):
                continue
            yield Unit(
                key=f"{owner}/{name}",
                label=path,
                owner=owner,
                concurrency_key=owner,
                full_listing=not self._qresync,
            )

    def _wants_list_status(self, client: Any) -> bool:
        """LIST-STATUS is only worth asking for where a folder's STATUS can spare its SELECT:
        with QRESYNC, whose cursor holds HIGHESTMODSEQ. SPECIAL-USE too: an extended LIST
        (one with RETURN options) carries the special-use attributes (``\\All``, ``\\Trash``)
        only when asked for them (RFC 6154 section 3), and a server that cannot be asked might
        still put them in its plain LIST, which the folder selection relies on."""
        capabilities = client.capabilities()
        return self._qresync and b"LIST-STATUS" in capabilities and b"SPECIAL-USE" in capabilities

    def _list_with_status(self, client: Any) -> list[tuple[Any, Any, str]]:
        """``LIST "" "*" RETURN (SPECIAL-USE STATUS (UIDVALIDITY UIDNEXT HIGHESTMODSEQ))`` (RFC 5819).

        One command gives the folders and, for each one the server can give it for, the
        STATUS that :meth:`crawl` would otherwise get from one EXAMINE per folder (~10
        response lines each): an unchanged account costs a log-in and this listing. A folder
        the server has no STATUS for (RFC 5819 section 2: it then sends the LIST response
        alone) is SELECTed as before, so a folder that cannot be opened is still a blind
        spot. The folder list is parsed exactly as ``list_folders`` parses it."""
        from imapclient.imap_utf7 import decode as decode_utf7
        from imapclient.response_parser import parse_response
        from imapclient.util import chunk

        imap = client._imap
        imap.untagged_responses.pop("STATUS", None)  # unsolicited ones of earlier commands
        typ, data = imap._simple_command("LIST", '""', '"*"', "RETURN",
                                         "(SPECIAL-USE STATUS (UIDVALIDITY UIDNEXT HIGHESTMODSEQ))")
        statuses = imap.untagged_responses.pop("STATUS", [])
        client._checkok("LIST", typ, data)
        typ, data = imap._untagged_response(typ, data, "LIST")
        folders: list[tuple[Any, Any, str]] = client._proc_folder_list(data)
        listed: dict[str, dict[bytes, int]] = {}
        lines = [line for line in statuses if line not in (b"", None)]
        for name, items in chunk(parse_response(lines), size=2):
            if isinstance(name, int):  # names decoded exactly as _proc_folder_list decodes them
                name = str(name)
            elif client.folder_encode:
                name = decode_utf7(name)
            pairs = dict(zip(items[::2], items[1::2], strict=True))
            listed[name] = {bytes(key).upper(): int(value) for key, value in pairs.items()}
        if self._selected is not None:
            # STATUS of the selected folder may be the session's old view of it (RFC 3501
            # 6.3.10, RFC 5819 section 2: clients should not rely on it); Dovecot answers a
            # deleted and re-created selected folder with its old UIDVALIDITY. SELECT it.
            listed.pop(self._selected[0], None)
        self._listed = listed
        return folders

    def _folder_of(self, unit_key: str) -> str:
        prefix = f"{self.config.mailbox}/"
        if not unit_key.startswith(prefix):
            raise SourceError(
                "not_found", "map hoort niet bij deze bron / folder does not belong to this source"
            )
        return unit_key[len(prefix) :]

    # --- crawl ---------------------------------------------------------------------------

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        """List what changed in one folder since ``cursor``.

        With QRESYNC and a cursor of the same UIDVALIDITY: nothing at all when HIGHESTMODSEQ
        did not move (no FETCH is sent; no EXAMINE either when this run's LIST-STATUS listing
        gave the folder's STATUS), else one ``UID FETCH 1:* (...) (CHANGEDSINCE m
        VANISHED)`` whose FETCH responses are the new and changed messages and whose
        ``VANISHED (EARLIER)`` response names the expunged ones. Otherwise (no QRESYNC, no
        cursor, a new UIDVALIDITY) a full listing, announced with :class:`Resync` on a delta
        unit or after a UIDVALIDITY change so the pipeline closes what it did not see.
        A folder that exists but cannot be SELECTed is a :class:`Blind` spot for this run.
        """
        folder = self._folder_of(unit.key)
        listed = self._listed.pop(folder, None)
        previous = _parse_cursor(cursor)
        if (self._qresync and listed is not None and previous is not None and previous[2] is not None
                and listed.get(b"UIDVALIDITY") == previous[0] and listed.get(b"HIGHESTMODSEQ") == previous[2]):
            # Unchanged since the cursor, by the STATUS of this run's listing: nothing to list,
            # no SELECT. A change after the listing is seen by the next run (the cursor stays).
            yield Cursor(_format_cursor(previous[0], listed.get(b"UIDNEXT") or previous[1], previous[2]))
            return
        try:
            self._selected = None  # always re-select: fresh UIDVALIDITY/UIDNEXT/HIGHESTMODSEQ
            try:
                status = self._select(folder)
            except Exception as exc:
                error = _source_error(exc, self.config.host, unit.label)
                if error.code in ("unreachable", "not_found"):
                    raise error from exc
                # The folder is listed but refuses SELECT (NOPERM, UNAVAILABLE, a server bug):
                # what it holds is unknown this run, never deleted.
                yield Blind("", "select_failed", f"map {unit.label} kon niet worden geopend; de berichten"
                            f" blijven staan / folder {unit.label} could not be selected; its messages are kept"
                            f" ({error.code})")
                yield Cursor(cursor)
                return
            uidvalidity = int(status[b"UIDVALIDITY"])
            modseq = int(status.get(b"HIGHESTMODSEQ") or 0) or None
            if previous is not None and previous[0] != uidvalidity:
                self.warn(
                    unit.key,
                    "uidvalidity_changed",
                    f"map {unit.label} is opnieuw genummerd (UIDVALIDITY); alle berichten worden"
                    f" opnieuw geanalyseerd / folder {unit.label} was renumbered (UIDVALIDITY);"
                    " all messages are analysed again",
                )
                yield Resync("uidvalidity_changed")
                previous, cursor = None, None
            if self._qresync and previous is not None and previous[2] is not None and modseq is not None:
                if modseq != previous[2]:
                    yield from self._changes_since(unit, uidvalidity, previous[2])
            else:
                if not unit.full_listing and cursor:
                    yield Resync("full_listing")
                yield from self._full_listing(unit, uidvalidity)
            uidnext = int(status.get(b"UIDNEXT") or 0) or (previous[1] if previous else 1)
            value = _format_cursor(uidvalidity, uidnext, modseq)
        except SourceError:
            raise
        except Exception as exc:
            self._drop()
            raise _source_error(exc, self.config.host, unit.label) from exc
        yield Cursor(value)

    def _full_listing(self, unit: Unit, uidvalidity: int) -> Iterator[Seen]:
        """Every UID of the selected folder with cheap metadata, fetched in batches."""
        uids = sorted(self._connect().search(["ALL"]))
        for start in range(0, len(uids), self.config.batch_size):
            batch = uids[start : start + self.config.batch_size]
            rows = self._connect().fetch(batch, _META)
            for uid in batch:
                row = rows.get(uid)
                if row is not None:  # else expunged between SEARCH and FETCH
                    yield Seen(self._ref(unit, uidvalidity, uid, row))

    def _changes_since(self, unit: Unit, uidvalidity: int, modseq: int) -> Iterator[Seen | Gone]:
        """RFC 7162 3.2.6: ``UID FETCH 1:* (...) (CHANGEDSINCE modseq VANISHED)``.

        imapclient's ``fetch`` keeps only the UIDs it was given, so the command goes through
        imaplib's own command/response calls (which imapclient itself uses) and the FETCH and
        VANISHED responses are read from them."""
        from imapclient.response_parser import parse_fetch_response

        client = self._connect()
        imap = client._imap
        imap.untagged_responses.pop("VANISHED", None)  # unsolicited ones of earlier commands
        items = "(" + " ".join(_META) + ")"
        tag = imap._command("UID", "FETCH", "1:*", items, f"(CHANGEDSINCE {modseq} VANISHED)")
        typ, data = imap._command_complete("FETCH", tag)
        if typ != "OK":
            raise _ProtocolError(f"FETCH CHANGEDSINCE: {typ}")
        vanished = imap.untagged_responses.pop("VANISHED", [])
        typ, data = imap._untagged_response(typ, data, "FETCH")
        rows = parse_fetch_response([d for d in data if d is not None], client.normalise_times, True)
        folder = self._folder_of(unit.key)
        for line in vanished:
            for uid in _parse_uid_set(line):
                yield Gone(imap_item_key(folder, uidvalidity, uid))
        for uid, row in sorted(rows.items()):
            if isinstance(uid, int) and b"RFC822.SIZE" in row:  # a complete row, not a bare flag push
                yield Seen(self._ref(unit, uidvalidity, uid, row))

    def _ref(self, unit: Unit, uidvalidity: int, uid: int, row: dict[bytes, Any]) -> ItemRef:
        headers = _parse_headers(row.get(_HEADER_FIELDS, b""))
        date = row.get(b"INTERNALDATE")
        if isinstance(date, datetime) and date.tzinfo is None:
            date = date.replace(tzinfo=UTC)
        if not isinstance(date, datetime):
            date = datetime.fromtimestamp(0, tz=UTC)
        flags = row.get(b"FLAGS", ())
        labels = tuple(sorted(_text(f) for f in flags if not _text(f).startswith("\\")))
        message_id = headers.get("message-id", "").strip()
        link = None
        if self.config.link_template and message_id:
            from urllib.parse import quote

            link = self.config.link_template.format(message_id=quote(message_id.strip("<>"), safe=""))
        return ItemRef(
            source=self.config.name,
            item_key=imap_item_key(self._folder_of(unit.key), uidvalidity, uid),
            kind=ItemKind.MAIL,
            owner=self.config.mailbox,
            folder=unit.label,
            title=headers.get("subject", ""),
            date=date,
            size=row.get(b"RFC822.SIZE"),
            change_key=f"{uidvalidity}:{uid}",
            link=link,
            unit_key=unit.key,
            labels=labels,
        )

    # --- fetch ---------------------------------------------------------------------------

    def _locate(self, ref: ItemRef, readonly: bool) -> int:
        """Select the item's folder and return its UID, or raise if the UID is stale."""
        folder = self._folder_of(ref.unit_key)
        _, uidvalidity, uid = parse_imap_item_key(ref.item_key)
        status = self._select(folder, readonly=readonly)
        if str(status[b"UIDVALIDITY"]) != uidvalidity:
            raise ItemFetchError(
                "not_found",
                "map is opnieuw genummerd (UIDVALIDITY); bericht volgt bij de volgende run"
                " / folder was renumbered (UIDVALIDITY); message follows in the next run",
            )
        return uid

    def fetch(self, ref: ItemRef) -> Fetched:
        if ref.size is not None and ref.size > self.context.max_item_bytes:
            raise ItemFetchError.too_large(self.context.max_item_bytes)
        try:
            uid = self._locate(ref, readonly=True)
            rows = self._connect().fetch([uid], ["BODY.PEEK[]"])
        except (ItemFetchError, SourceError):
            raise
        except Exception as exc:
            self._drop()
            raise ItemFetchError(
                "fetch_failed", f"bericht ophalen mislukt / fetching message failed: {type(exc).__name__}"
            ) from exc
        row = rows.get(uid)
        if row is None or b"BODY[]" not in row:
            raise ItemFetchError("not_found", "bericht bestaat niet meer / message no longer exists")
        data = bytes(row[b"BODY[]"])
        return Fetched(name=f"{uid}.eml", size=len(data), media_type="message/rfc822", data=data)

    # --- optional action -------------------------------------------------------------------

    def set_label(self, ref: ItemRef, label: str, present: bool = True) -> str | None:
        """Set or clear an IMAP keyword (the IMAP counterpart of an Outlook category).

        Keywords are atoms, so characters IMAP does not allow become ``_``. This is the only
        place the connector selects a folder read-write; it switches back to read-only on the
        next crawl or fetch. Returns the item's change key, which a keyword does not move
        (same contract as the Graph and EWS connectors).
        """
        keyword = _keyword(label)
        try:
            uid = self._locate(ref, readonly=False)
            client = self._connect()
            if present:
                client.add_flags([uid], [keyword], silent=True)
            else:
                client.remove_flags([uid], [keyword], silent=True)
        except (ItemFetchError, SourceError):
            raise
        except Exception as exc:
            self._drop()
            raise ItemFetchError(
                "action_failed", f"label zetten mislukt / setting label failed: {type(exc).__name__}"
            ) from exc
        return ref.change_key

    def remove(self, ref: ItemRef) -> str:
        """Move the message to the account's Trash; returns the Trash folder's path.

        Trash is the folder the server marks ``\\Trash`` (RFC 6154), else ``trash_folder``.
        With MOVE (RFC 6851) one atomic ``UID MOVE``; without it ``UID COPY``, ``\\Deleted`` and,
        with UIDPLUS (RFC 4315), ``UID EXPUNGE`` of just this message. Without UIDPLUS the
        message keeps its ``\\Deleted`` flag for the mail client to expunge: a plain EXPUNGE
        would also remove what the teacher marked but did not yet want gone. A message that
        is no longer in its folder, or already in Trash, is success (idempotent).
        """
        try:
            folder = self._folder_of(ref.unit_key or "")
            trash, shown = self._trash_folder()
            if folder == trash:
                return shown
            uid = self._locate(ref, readonly=False)
            client = self._connect()
            if not client.fetch([uid], ["FLAGS"]).get(uid):
                return shown  # already moved (a retried action) or deleted by the teacher
            capabilities = {bytes(c).upper() for c in client.capabilities()}
            if b"MOVE" in capabilities:
                client.move([uid], trash)
            else:
                client.copy([uid], trash)
                client.add_flags([uid], [b"\\Deleted"], silent=True)
                if b"UIDPLUS" in capabilities:
                    client.uid_expunge([uid])
        except ItemFetchError:
            raise
        except SourceError as exc:
            retryable = exc.code in ("unreachable", "access_denied", "throttled")
            raise ItemFetchError(exc.code if retryable else "action_failed", str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - classified below, the connection dropped
            self._drop()
            if isinstance(exc, OSError):
                raise ItemFetchError("unreachable", f"verbinding met IMAP-server verbroken / connection to the"
                                                    f" IMAP server lost: {type(exc).__name__}") from None
            text = str(exc).lower()
            code = "access_denied" if "noperm" in text or "permission" in text else "action_failed"
            raise ItemFetchError(code, f"verplaatsen naar de prullenbak mislukt / moving to Trash failed:"
                                       f" {type(exc).__name__}") from None
        return shown

    def _trash_folder(self) -> tuple[str, str]:
        """(IMAP name, path shown to people) of the Trash; ``action_failed`` without one."""
        if self._trash is not None:
            return self._trash
        client = self._connect()
        folders = client.list_folders()
        for flags, delimiter, name in folders:
            if "\\trash" in {_text(f).lower() for f in flags}:
                self._trash = (name, _folder_path(name, delimiter))
                return self._trash
        wanted = self.config.trash_folder
        for _flags, delimiter, name in folders:
            if wanted is not None and name == wanted:
                self._trash = (name, _folder_path(name, delimiter))
                return self._trash
        raise ItemFetchError(
            "action_failed",
            "geen prullenbak gevonden (geen map met \\Trash); stel 'trash_folder' in"
            " / no Trash found (no folder marked \\Trash); set 'trash_folder'",
        )


# --- helpers -------------------------------------------------------------------------------


def imap_item_key(folder: str, uidvalidity: int, uid: int) -> str:
    """The stored key of one message: ``"<folder>/<uidvalidity>:<uid>"``.

    The folder (its IMAP name, as in the unit key) is part of the identity because RFC 3501
    makes UIDVALIDITY unique per folder only: servers and migration tools give several folders
    the same value, and ``uidvalidity:uid`` alone made different messages one item. The
    numeric tail never holds ``/``, so the key splits at its last ``/``. Migration 0003 wrote
    this form into stores made with the old one (and keeps its own frozen copy of it).
    """
    return f"{folder}/{uidvalidity}:{uid}"


def parse_imap_item_key(key: str) -> tuple[str, str, int]:
    """``(folder, uidvalidity, uid)`` of :func:`imap_item_key`; raises ``ItemFetchError`` on
    a key of another form (never a crash in the middle of a fetch)."""
    folder, _, tail = key.rpartition("/")
    uidvalidity, _, uid = tail.partition(":")
    if not uidvalidity.isdigit() or not uid.isdigit():
        raise ItemFetchError("not_found", "onbekende berichtsleutel / unknown message key")
    return folder, uidvalidity, int(uid)


def _quiet_logout(client: Any) -> None:
    if client is None:
        return
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - closing a broken connection may fail; nothing to do
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001
            pass


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _folder_path(name: str, delimiter: Any) -> str:
    """Show folders with ``/`` whatever the server's hierarchy delimiter is."""
    sep = _text(delimiter) if delimiter else ""
    return name.replace(sep, "/") if sep and sep != "/" else name


def _parse_headers(raw: bytes) -> dict[str, str]:
    """Decode Subject and Message-ID (RFC 2047 encoded words included); never fails.

    Hand-rolled on purpose: ``email.policy.default`` costs more than the whole IMAP round
    trip per message, and only two simple fields are needed here.
    """
    headers: dict[str, str] = {}
    try:
        text = raw.decode("utf-8", "replace")
        unfolded = text.replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", " ")
        for line in unfolded.split("\n"):
            name, sep, value = line.partition(":")
            if not sep:
                continue
            value = value.strip()
            if "=?" in value:
                try:
                    value = str(email.header.make_header(email.header.decode_header(value)))
                except Exception:  # noqa: BLE001 - unknown charset: keep the raw text
                    pass
            headers[name.strip().lower()] = " ".join(value.split())
    except Exception:  # noqa: BLE001 - a broken header must not stop the listing
        return headers
    return headers


class _ProtocolError(Exception):
    """The server answered a command with NO or BAD."""


def _parse_uid_set(line: Any) -> Iterator[int]:
    """UIDs of a ``VANISHED [(EARLIER)] 1:3,7`` response (a sequence set, RFC 3501 9)."""
    text = _text(line).replace("(EARLIER)", "").strip()
    for part in text.split(","):
        low, _, high = part.strip().partition(":")
        if not low.isdigit() or (high and not high.isdigit()):
            continue
        first, last = int(low), int(high or low)
        yield from range(min(first, last), max(first, last) + 1)


def _format_cursor(uidvalidity: int, uidnext: int, modseq: int | None) -> str:
    """``"uidvalidity:uidnext[:highestmodseq]"``, the form :func:`_parse_cursor` reads."""
    return f"{uidvalidity}:{uidnext}" + (f":{modseq}" if modseq is not None else "")


def _parse_cursor(cursor: str | None) -> tuple[int, int, int | None] | None:
    if not cursor:
        return None
    try:
        parts = [int(p) for p in cursor.split(":")]
    except ValueError:
        return None
    if len(parts) == 2:
        return parts[0], parts[1], None
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    return None


def _keyword(label: str) -> str:
    allowed = "".join(ch if ch.isascii() and ch.isalnum() or ch in "-_.$" else "_" for ch in label)
    return allowed.strip("_") or "schoonschip"


def _source_error(exc: Exception, host: str, folder: str | None) -> SourceError:
    """Map an IMAP or socket exception to a stable code; messages name no content."""
    from imapclient.exceptions import IMAPClientError

    where = f"map {folder}" if folder else f"server {host}"
    where_en = f"folder {folder}" if folder else f"server {host}"
    if isinstance(exc, (OSError, socket.timeout)) and not isinstance(exc, ssl.SSLError):
        return SourceError(
            "unreachable",
            f"verbinding met {where} verbroken / connection to {where_en} lost: {type(exc).__name__}",
        )
    text = str(exc).lower()
    if isinstance(exc, IMAPClientError) and ("nonexistent" in text or "doesn't exist" in text):
        return SourceError("not_found", f"{where} bestaat niet / {where_en} does not exist")
    if "noperm" in text or "permission" in text:
        return SourceError("access_denied", f"geen toegang tot {where} / no access to {where_en}")
    return SourceError(
        "protocol", f"IMAP-fout bij {where} / IMAP error at {where_en}: {type(exc).__name__}"
    )
