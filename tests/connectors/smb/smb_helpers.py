"""Small helpers shared by the SMB tests (connector construction, event splitting)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from connectors.base import ConnectorContext
from connectors.smb import SmbConfig, SmbConnector
from scanner.core.model import Blind, Cursor, Gone, ItemRef, Seen

from .samba_server import Samba

PASSWORD_ENV = "SCHOONSCHIP_TEST_SMB_PASSWORD"


def make_config(server: Samba, shares: list[dict[str, Any]], **extra: Any) -> SmbConfig:
    os.environ[PASSWORD_ENV] = server.password
    fields: dict[str, Any] = {
        "name": "fileserver",
        "kind": "smb",
        "server": server.host,
        "port": server.port,
        "username": server.username,
        "password": {"env": PASSWORD_ENV},
        "shares": shares,
    }
    fields.update(extra)
    return SmbConfig.model_validate(fields)


def make_connector(server: Samba, shares: list[dict[str, Any]],
                   context: ConnectorContext | None = None, **extra: Any) -> SmbConnector:
    return SmbConnector(make_config(server, shares, **extra), context)


def crawl_all(connector: SmbConnector,
              unit_key: str | None = None) -> tuple[dict[str, ItemRef], dict]:
    """Crawl one unit (the only/first one when not named): refs by item key and the cursor
    summary. Checks the stream contract on the way: Seen and Blind only, then exactly one
    Cursor last. Blind events, if any, are added to the summary as ``"blind"``."""
    units = list(connector.units())
    unit = units[0] if unit_key is None else next(u for u in units if u.key == unit_key)
    events = list(connector.crawl(unit, None))
    assert events, "crawl yielded nothing"
    assert isinstance(events[-1], Cursor)
    assert not any(isinstance(e, Cursor) for e in events[:-1])
    assert not any(isinstance(e, Gone) for e in events), "full listings report removals by omission"
    refs: dict[str, ItemRef] = {}
    blind: list[Blind] = []
    for event in events[:-1]:
        if isinstance(event, Blind):
            blind.append(event)
            continue
        assert isinstance(event, Seen)
        assert event.ref.item_key not in refs, f"duplicate item {event.ref.item_key!r}"
        refs[event.ref.item_key] = event.ref
    summary = json.loads(events[-1].value) if events[-1].value else {}
    if blind:
        summary["blind"] = blind
    return refs, summary


@contextmanager
def held_open(server: Samba, share: str, path: str) -> Iterator[None]:
    """Hold ``path`` on ``share`` open with no sharing allowed, from a session of its own, the way
    Outlook holds an open .pst: other opens of it fail with a sharing violation meanwhile."""
    import smbclient

    cache: dict = {}
    unc = f"\\\\{server.host}\\{share}\\" + path.replace("/", "\\")
    try:
        with smbclient.open_file(unc, mode="rb", share_access=None, username=server.username,
                                 password=server.password, port=server.port, connection_cache=cache):
            yield
    finally:
        smbclient.reset_connection_cache(connection_cache=cache)
