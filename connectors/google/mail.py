"""Gmail mailboxes through the Gmail API with domain-wide delegation (kind ``google_mail``).

One unit per user, not per label: Gmail's history (``users.history.list``) is per mailbox, a
message carries several labels at once and keeps its id when labels change, so a per-label
unit would list the same message several times and report a label change as a move.

- First run (or no usable cursor): ``users.getProfile`` gives the mailbox's ``historyId``
  *before* the listing, then ``users.messages.list`` (all pages, bin and spam included by
  default) and ``messages.get(format=metadata)`` per message for subject, date, size and
  labels. Changes during the listing are therefore replayed by the next increment, never lost.
- Next runs: ``users.history.list(startHistoryId, historyTypes=messageAdded, messageDeleted,
  labelAdded, labelRemoved)``; added or relabelled messages are looked up again (``Seen``),
  deleted ones are ``Gone``, as is a message moved to a label this source excludes. The whole
  history is read before anything is yielded, so an expired ``historyId`` (Gmail answers 404;
  its sync guide says to do a full sync then) gives a :class:`Resync` before any ``Seen``.
- Content: ``messages.get(format=raw)``, the RFC 822 message as base64url, refused beforehand
  when ``sizeEstimate`` exceeds ``max_item_bytes`` and checked again after decoding.

Gmail message content never changes (only labels do), so the change key is the message id:
a relabelled message is seen with new labels but not analysed again.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

from connectors.base import Connector, ConnectorContext, ItemFetchError, SourceError
from connectors.google import cursor as cursor_field
from connectors.google.client import GoogleApi, GoogleError
from connectors.google.config import GMAIL_SCOPE, GoogleMailConfig
from connectors.google.directory import source_users
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

SCOPES = (GMAIL_SCOPE,)
HISTORY_TYPES = ["messageAdded", "messageDeleted", "labelAdded", "labelRemoved"]
METADATA_FIELDS = "id,labelIds,internalDate,sizeEstimate,payload/headers"
FOLDER_ORDER = ("INBOX", "SENT", "DRAFT", "SPAM", "TRASH")
"""The system label that names a message's folder, most telling first; else its first user
label, else 'Archief' (archived mail has no label at all)."""
ARCHIVED = "Archief"
RESYNC_MESSAGE = (
    "historyId verlopen, mailbox opnieuw volledig gelezen / historyId expired, mailbox listed in full again"
)


def link_for(user: str, message_id: str) -> str:
    return f"https://mail.google.com/mail/u/?authuser={quote(user, safe='@')}#all/{message_id}"


class GoogleMailConnector(Connector):
    """Gmail of the configured users, crawled per mailbox with the history API."""

    kind: ClassVar[str] = "google_mail"
    config_model: ClassVar[type[GoogleMailConfig]] = GoogleMailConfig
    config: GoogleMailConfig

    def __init__(
        self, config: GoogleMailConfig, context: ConnectorContext | None = None, *, api: GoogleApi | None = None
    ) -> None:
        super().__init__(config, context)
        self._api = api

    @property
    def api(self) -> GoogleApi:
        if self._api is None:
            self._api = GoogleApi(self.config)
        return self._api

    def _call(self, user: str, make: Any) -> Any:
        return self.api.call("gmail", user, SCOPES, make)

    # -- units --------------------------------------------------------------------------------

    def units(self) -> Iterator[Unit]:
        for user in source_users(self.api, self.config):
            yield Unit(key=user, label=user, owner=user, concurrency_key=user, full_listing=False)

    # -- crawl --------------------------------------------------------------------------------

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        user = unit.key
        try:
            labels = self._labels(user)
            start = cursor_field.decode(cursor, "history", str.isdigit)
            if start is not None:
                changes = self._history(user, start)
                if changes is not None:
                    yield from self._changes(unit, user, labels, *changes)
                    return
                self.warn(unit.key, "resync", RESYNC_MESSAGE)
                yield Resync(RESYNC_MESSAGE)
            yield from self._full(unit, user, labels)
        except GoogleError as exc:
            raise exc.source_error(f"mailbox {user}") from None

    def _labels(self, user: str) -> dict[str, tuple[str, str]]:
        """label id -> (name, type). Also the first call on a mailbox: a user that does not
        exist or has no Gmail fails here, naming the user."""
        answer = self._call(user, lambda s: s.users().labels().list(userId=user))
        return {
            str(label["id"]): (str(label.get("name") or label["id"]), str(label.get("type") or "user"))
            for label in answer.get("labels", [])
            if label.get("id")
        }

    def _full(self, unit: Unit, user: str, labels: dict[str, tuple[str, str]]) -> CrawlStream:
        profile = self._call(user, lambda s: s.users().getProfile(userId=user))
        history_id = str(profile.get("historyId") or "")
        for page in self.api.pages("gmail", user, SCOPES, lambda s, token: s.users().messages().list(
            userId=user, maxResults=self.config.page_size, pageToken=token,
            includeSpamTrash=self.config.include_spam_trash, fields="messages(id),nextPageToken",
        )):
            ids = [str(m["id"]) for m in page.get("messages", []) if m.get("id")]
            for message in self._metadata(user, ids):
                if message is not None:
                    ref = self._ref(unit, user, labels, message)
                    if ref is not None:
                        yield Seen(ref)
        if not history_id:
            raise SourceError("protocol", f"mailbox {user}: Gmail gaf geen historyId / Gmail gave no historyId")
        yield Cursor(cursor_field.encode("history", history_id))

    def _history(self, user: str, start: str) -> tuple[list[str], list[str], str] | None:
        """(changed ids, deleted ids, new historyId), or ``None`` when ``start`` expired (404)."""
        state: dict[str, bool] = {}  # id -> deleted, in order of first mention
        latest = start
        try:
            for page in self.api.pages("gmail", user, SCOPES, lambda s, token: s.users().history().list(
                userId=user, startHistoryId=start, historyTypes=HISTORY_TYPES,
                maxResults=self.config.page_size, pageToken=token,
            )):
                for record in page.get("history", []):
                    for kind in ("messagesAdded", "labelsAdded", "labelsRemoved", "messagesDeleted"):
                        for entry in record.get(kind, []):
                            message_id = str((entry.get("message") or {}).get("id") or "")
                            if message_id:
                                state[message_id] = kind == "messagesDeleted" or state.get(message_id, False)
                latest = str(page.get("historyId") or latest)
        except GoogleError as exc:
            if exc.status == 404:
                return None
            raise
        changed = [m for m, deleted in state.items() if not deleted]
        deleted = [m for m, deleted in state.items() if deleted]
        return changed, deleted, latest

    def _changes(
        self, unit: Unit, user: str, labels: dict[str, tuple[str, str]],
        changed: list[str], deleted: list[str], history_id: str,
    ) -> CrawlStream:
        for message_id in deleted:
            yield Gone(f"{user}:{message_id}")
        for start in range(0, len(changed), self.config.page_size):
            batch = changed[start : start + self.config.page_size]
            for message_id, message in zip(batch, self._metadata(user, batch), strict=True):
                ref = self._ref(unit, user, labels, message) if message is not None else None
                # gone since (404), or now only under a label this source does not read
                yield Seen(ref) if ref is not None else Gone(f"{user}:{message_id}")
        yield Cursor(cursor_field.encode("history", history_id))

    def _metadata(self, user: str, ids: list[str]) -> list[dict[str, Any] | None]:
        """``messages.get(format=metadata)`` for each id, a few in parallel; ``None``: deleted."""
        def one(message_id: str) -> dict[str, Any] | None:
            try:
                return self._call(user, lambda s: s.users().messages().get(
                    userId=user, id=message_id, format="metadata", metadataHeaders=["Subject"],
                    fields=METADATA_FIELDS,
                ))
            except GoogleError as exc:
                if exc.status == 404:
                    return None
                raise
        if len(ids) <= 1:
            return [one(m) for m in ids]
        workers = min(len(ids), self.config.max_parallel_per_user)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gmail-meta") as pool:
            return list(pool.map(one, ids))

    def _ref(
        self, unit: Unit, user: str, labels: dict[str, tuple[str, str]], message: dict[str, Any]
    ) -> ItemRef | None:
        label_ids = [str(x) for x in message.get("labelIds") or []]
        folder = next((x for x in FOLDER_ORDER if x in label_ids), None)
        user_labels = sorted(labels[x][0] for x in label_ids if x in labels and labels[x][1] == "user")
        if folder is None:
            folder = user_labels[0] if user_labels else ARCHIVED
        if not self.config.wants(folder):
            return None
        headers = (message.get("payload") or {}).get("headers") or []
        subject = next((str(h.get("value") or "") for h in headers if str(h.get("name")).lower() == "subject"), "")
        try:
            date = datetime.fromtimestamp(int(message.get("internalDate") or 0) / 1000, tz=UTC)
        except (TypeError, ValueError):
            date = datetime(1970, 1, 1, tzinfo=UTC)
        size = message.get("sizeEstimate")
        return ItemRef(
            source=self.config.name,
            item_key=f"{user}:{message['id']}",
            kind=ItemKind.MAIL,
            owner=user,
            folder=folder,
            title=subject,
            date=date,
            size=int(size) if isinstance(size, int) else None,
            change_key=str(message["id"]),
            link=link_for(user, str(message["id"])),
            unit_key=unit.key,
            labels=tuple(user_labels),
        )

    # -- content --------------------------------------------------------------------------------

    def fetch(self, ref: ItemRef) -> Fetched:
        user, _, message_id = ref.item_key.partition(":")
        limit = self.context.max_item_bytes
        if ref.size is not None and ref.size > limit:
            raise ItemFetchError.too_large(limit)
        try:
            message = self._call(user, lambda s: s.users().messages().get(
                userId=user, id=message_id, format="raw", fields="raw",
            ))
        except GoogleError as exc:
            code = "not_found" if exc.status == 404 else "throttled" if exc.throttled else "fetch_failed"
            raise ItemFetchError(code, f"ophalen mislukt / fetch failed: {exc}") from None
        except SourceError as exc:
            raise ItemFetchError("fetch_failed", f"ophalen mislukt / fetch failed: {exc}") from None
        raw = str(message.get("raw") or "")
        if len(raw) * 3 // 4 > limit + 3:
            raise ItemFetchError.too_large(limit)
        try:
            data = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        except (binascii.Error, ValueError):
            raise ItemFetchError(
                "fetch_failed", "Gmail gaf onleesbare raw-inhoud / Gmail gave unreadable raw"
            ) from None
        if len(data) > limit:
            raise ItemFetchError.too_large(limit)
        return Fetched(name="bericht.eml", size=len(data), media_type="message/rfc822", data=data)



