"""Helpers shared by the Graph mail and files connectors."""

from __future__ import annotations

import json
import os
import tempfile
import weakref
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import requests

from connectors.base import Connector, ConnectorContext, ItemFetchError, SourceError
from connectors.graph.client import GraphClient, GraphError, path_id
from connectors.graph.config import GraphSourceConfig
from scanner.core.model import RETRYABLE_ERRORS, Blind, Fetched, Gone, Seen

CURSOR_IGNORED_MESSAGE = (
    "opgeslagen cursor wijst naar een andere host en is genegeerd / "
    "stored cursor points at another host and was ignored"
)

ROUND_BUFFER = 5000
"""Changes of one delta round held back before the oldest are handed out (about 1 KB each)."""

CHUNK = 64 * 1024
SPOOL_BYTES = 16 * 1024 * 1024
"""Bodies larger than this go to a private temporary file instead of memory."""


class TooLarge(Exception):
    """Raised while streaming a body that exceeds the item size limit."""


class _TempFile:
    """Opens a downloaded temporary file; deletes it when the :class:`Fetched` is dropped."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._finalizer = weakref.finalize(self, _unlink, path)

    def __call__(self) -> BinaryIO:
        return open(self.path, "rb")


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def receive(
    response: requests.Response, limit: int, *, name: str, media_type: str | None, spool_dir: str | None
) -> Fetched:
    """Turn a streamed body into :class:`Fetched`: in memory when small, else spooled.

    Spooling to a mode-0600 temporary file (removed when the Fetched is garbage collected)
    keeps a 90 MB attachment-laden mail or file out of the worker's memory; the size limit
    is enforced while streaming either way.
    """
    declared = response.headers.get("Content-Length")
    size_hint = int(declared) if declared and declared.isdigit() else None
    if size_hint is not None and size_hint > limit:
        raise TooLarge(size_hint)
    if size_hint is None or size_hint <= SPOOL_BYTES:
        buffer = bytearray()
        chunks = response.iter_content(CHUNK)
        for chunk in chunks:
            buffer += chunk
            if len(buffer) > limit:
                raise TooLarge(len(buffer))
            if len(buffer) > SPOOL_BYTES:  # no length given and big after all: spool the rest
                return _spool(bytes(buffer), chunks, limit, name, media_type, spool_dir)
        return Fetched(name=name, size=len(buffer), media_type=media_type, data=bytes(buffer))
    return _spool(b"", response.iter_content(CHUNK), limit, name, media_type, spool_dir)


def _spool(
    head: bytes, chunks: Iterable[bytes], limit: int, name: str, media_type: str | None, spool_dir: str | None
) -> Fetched:
    if spool_dir:
        Path(spool_dir).mkdir(parents=True, exist_ok=True)
    handle, path = tempfile.mkstemp(prefix="graph-", dir=spool_dir)  # mode 0600
    size = len(head)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(head)
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(size)
                out.write(chunk)
    except BaseException:
        _unlink(path)
        raise
    return Fetched(name=name, size=size, media_type=media_type, open=_TempFile(path), path=Path(path))


class DeltaRound:
    """The changes of one delta round, de-duplicated: the last occurrence of an item wins.

    Graph documents that "the same item may appear more than once in a delta feed ... use the
    last occurrence you see" (an item changed while the round was being paged, a folder move).
    Handing out every occurrence would make the pipeline fetch and analyse the item twice, and
    with parallel workers the older version could be stored last. So a round's events are held
    (keyed by item key, moved to the end when they occur again) and handed out when the round
    is complete. To bound memory on a huge first listing, only the newest ``limit`` events are
    held; older ones are handed out early, and a later occurrence of one of those is handed
    out again only when it differs from what was handed out (a real change mid-round).
    """

    def __init__(self, limit: int = ROUND_BUFFER) -> None:
        self.limit = limit
        self._held: dict[str, Seen | Gone] = {}
        self._handed: dict[str, int] = {}
        self.duplicates = 0
        """Occurrences beyond the first (for tests and the log)."""

    def add(self, key: str, event: Seen | Gone) -> list[Seen | Gone]:
        """Record one occurrence; returns events that must be handed out now (overflow)."""
        if key in self._held:
            self.duplicates += 1
            del self._held[key]
        elif key in self._handed:
            self.duplicates += 1
            if self._handed[key] == _signature(event):
                return []
        self._held[key] = event
        out: list[Seen | Gone] = []
        while len(self._held) > self.limit:
            out.append(self._hand(next(iter(self._held))))
        return out

    def discard(self, key: str) -> None:
        """The item's last occurrence is one the connector does not hand out (excluded)."""
        self._held.pop(key, None)

    def drain(self) -> list[Seen | Gone]:
        """Everything still held, oldest first (the round is complete)."""
        return [self._hand(key) for key in list(self._held)]

    def _hand(self, key: str) -> Seen | Gone:
        event = self._held.pop(key)
        self._handed[key] = _signature(event)
        return event


def _signature(event: Seen | Gone) -> int:
    if isinstance(event, Gone):
        return hash(("gone", event.item_key))
    r = event.ref
    return hash((r.item_key, r.change_key, r.title, r.folder, r.owner, r.labels, r.link, r.size, r.unit_key, r.date))


def fetch_error(exc: Exception) -> ItemFetchError:
    """Map client errors to the per-item error of the connector contract (no content)."""
    if isinstance(exc, GraphError):
        code = "not_found" if exc.status in (404, 410) else "fetch_failed"
        return ItemFetchError(
            code, f"ophalen mislukt: Graph {exc.status} ({exc.code}) / fetch failed: Graph {exc.status} ({exc.code})"
        )
    if isinstance(exc, SourceError):
        return ItemFetchError("fetch_failed", f"ophalen mislukt / fetch failed: {exc}")
    raise exc


def action_error(exc: Exception) -> ItemFetchError:
    """Map a failed action (move, delete) to the item error of the contract: 403 (no write
    permission: Mail.ReadWrite / Files.ReadWrite.All missing, or outside the RBAC scope) is
    ``access_denied``, lasting throttling or an outage keep their retryable code."""
    if isinstance(exc, GraphError):
        code = "access_denied" if exc.status == 403 else "action_failed"
        return ItemFetchError(
            code, f"actie mislukt: Graph {exc.status} ({exc.code}) / action failed: Graph {exc.status} ({exc.code})"
        )
    if isinstance(exc, SourceError):
        code = exc.code if exc.code in RETRYABLE_ERRORS else "action_failed"
        return ItemFetchError(code, f"actie mislukt / action failed: {exc}")
    raise exc


def access_denied_blind(unit_key: str, place: str | None = None) -> Blind:
    """The crawl event for a folder Graph answered 403 for: a warning naming the folder that
    protects what is stored for it, never a deletion (``Blind``, prefix ``""``: the unit)."""
    where = place or unit_key
    return Blind(
        "",
        "access_denied",
        f"{where}: geen toegang (Graph 403); niets als verwijderd geteld / "
        "no access (Graph 403); nothing counted as deleted",
    )


def parse_time(*values: Any) -> datetime:
    """The first parseable ISO 8601 timestamp among ``values`` (Graph uses ``...Z``), UTC."""
    for value in values:
        if isinstance(value, str) and value:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(**fields: str) -> str:
    return json.dumps(fields, separators=(",", ":"), sort_keys=True)


def decode_cursor(value: str | None, *required: str) -> dict[str, str] | None:
    """The stored cursor's fields, or ``None`` when absent or unreadable (then: full crawl)."""
    if not value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in required):
        return None
    return data


def group_member_addresses(client: GraphClient, group_ids: Iterable[str]) -> list[str]:
    """Mail addresses of the users in the groups, following nested groups once each.

    Uses ``/groups/{id}/members`` (GroupMember.Read.All); users without a mailbox (``mail``
    empty) are skipped, they have nothing to scan.
    """
    seen_groups: set[str] = set()
    addresses: list[str] = []
    pending = list(group_ids)
    while pending:
        group_id = pending.pop(0)
        if group_id in seen_groups:
            continue
        seen_groups.add(group_id)
        try:
            members = list(
                client.items(
                    f"groups/{path_id(group_id)}/members",
                    params={"$select": "id,mail,userPrincipalName", "$top": "999"},
                    what="groep / group",
                )
            )
        except GraphError as exc:
            raise exc.source_error(f"groep {group_id} / group {group_id}") from None
        for member in members:
            kind = member.get("@odata.type", "")
            if kind == "#microsoft.graph.group" and member.get("id"):
                pending.append(member["id"])
            elif kind in ("#microsoft.graph.user", "") and member.get("mail"):
                addresses.append(member["mail"])
    return addresses


def unique_lower(values: Iterable[str]) -> list[str]:
    """Case-insensitive de-duplication keeping first-seen order (addresses are case-insensitive)."""
    seen: set[str] = set()
    result: list[str] = []
    for value in values:
        key = value.strip().lower()
        if key and key not in seen:
            seen.add(key)
            result.append(key)
    return result


class GraphConnector(Connector):
    """What the mail and files connectors share: a lazily built :class:`GraphClient`."""

    config: GraphSourceConfig
    parallel_units = True
    """Units (users, their folders and drives) are independent requests; the pipeline never
    crawls two units of one mailbox (``concurrency_key``) at once."""

    def __init__(self, config: Any, context: ConnectorContext | None = None, *,
                 client: GraphClient | None = None) -> None:
        super().__init__(config, context)
        self._client = client

    @property
    def client(self) -> GraphClient:
        if self._client is None:
            self._client = GraphClient(self.config, user_agent=self.context.user_agent)
        return self._client
