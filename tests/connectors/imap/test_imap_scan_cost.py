"""An unchanged scan of an IMAP account through the real pipeline costs the server nothing it
would not be asked for an empty account (issue 21 item 4): no FETCH at all, inline and with the
pool; after one new message, exactly one message body is fetched. Counted at the server side of
the proxy (imap_proxy.py), not by our client."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from imapclient import IMAPClient

from scanner.config import load_config
from tests.convergence import scan

from .conftest import USER
from .dovecot_server import USERS
from .imap_proxy import ImapProxy
from .test_imap_connector import make_mail

pytestmark = pytest.mark.service


def body_fetches(proxy: ImapProxy) -> int:
    """FETCHes of whole messages (``BODY.PEEK[]``; the listing asks for two header fields)."""
    with proxy.lock:
        return sum(1 for c in proxy.commands if "FETCH" in c.upper().split(" ", 2)[:2] and "BODY.PEEK[]" in c.upper())


@pytest.mark.parametrize("executor", ["inline", "pool"])
def test_an_unchanged_scan_sends_no_fetch_and_one_new_message_one(
        admin: IMAPClient, proxy: ImapProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, executor: str) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", USERS[USER])
    admin.create_folder("Zorg")
    for n in range(40):
        admin.append("INBOX" if n % 2 else "Zorg", make_mail(f"Bericht {n}", f"Over leerling {n}. BSN 111222333."))
    source = {"name": "imap-jansen", "kind": "imap", "host": "127.0.0.1", "port": proxy.port, "security": "plain",
              "username": USER, "password": {"env": "TEST_IMAP_PASSWORD"}, "batch_size": 16}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "state"), "school": {"name": "Test"},
                                    "sources": [source],
                                    "executor": {"kind": executor, "workers": 1, "batch_size": 8}}),
                    encoding="utf-8")
    settings = load_config(path)

    first, problems = scan(settings)
    assert problems == [] and first.totals()["analysed"] == 40
    assert body_fetches(proxy) >= 1
    proxy.commands.clear()

    second, problems = scan(settings)
    assert problems == [] and second.totals()["analysed"] == 0
    assert proxy.count("UID FETCH") == 0 and proxy.count("FETCH") == 0 and proxy.count("UID SEARCH") == 0

    admin.append("Zorg", make_mail("Nieuw bericht", "Een nieuwe ziekmelding."))
    proxy.commands.clear()
    third, problems = scan(settings)
    assert problems == [] and third.totals()["analysed"] == 1
    assert body_fetches(proxy) == 1
    listings = [c for c in proxy.commands if c.upper().startswith("UID FETCH 1:*")]
    assert len(listings) == 1 and "CHANGEDSINCE" in listings[0]  # only Zorg's changes were listed
