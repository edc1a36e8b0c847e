"""Convergence for IMAP (issue 15): after transient faults in one run, the next fault-free run
leaves the store equal to the store of a clean run on the same mailbox state.

Real Dovecot, with the faults injected by a TCP proxy that follows the protocol (a folder that
answers SELECT with ``NO [UNAVAILABLE]``, a connection cut in the middle of a FETCH): nothing of
our own code is patched.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from imapclient import IMAPClient

from scanner.config import load_config
from tests.convergence import assert_stores_converged, states
from tests.convergence import scan_totals as scan

from .conftest import USER
from .dovecot_server import USERS
from .test_imap_connector import make_mail

pytestmark = pytest.mark.service

BSN = "111222333"  # passes the 11-proef; fictional


def settings(tmp_path: Path, name: str, port: int):
    data = {  # one state_dir (one HMAC key, so value hashes compare), one database per store
        "state_dir": str(tmp_path / "state"), "school": {"name": "Test"},
        "database": {"url": f"sqlite:///{tmp_path / name}.sqlite"},
        "sources": [{"name": "imap-jansen", "kind": "imap", "host": "127.0.0.1", "port": port,
                     "security": "plain", "username": USER, "password": {"env": "TEST_IMAP_PASSWORD"}}],
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path)


def fill(admin: IMAPClient) -> None:
    admin.create_folder("Zorg")
    admin.append("INBOX", make_mail("Ziekmelding", f"Mijn zoon is ziek. BSN {BSN}."))
    admin.append("INBOX", make_mail("Rooster", "Maandag gym, dinsdag muziek."))
    admin.append("INBOX", make_mail("Oud bericht", "Niets bijzonders."))
    admin.append("Zorg", make_mail("OPP", f"Ontwikkelingsperspectief, BSN: {BSN}, diagnose ADHD."))
    admin.append("Zorg", make_mail("Verslag", "Gesprek met ouders."))


def change(admin: IMAPClient) -> None:
    """What happens at the school between the two nights."""
    admin.select_folder("INBOX")
    oldest = [uid for uid, row in admin.fetch(admin.search(["ALL"]), ["ENVELOPE"]).items()
              if row[b"ENVELOPE"].subject == b"Oud bericht"]
    admin.delete_messages(oldest)
    admin.expunge()
    admin.append("INBOX", make_mail("Klassenlijst", f"Naam;BSN\nDaan;{BSN}"))
    admin.add_flags(admin.search(["ALL"])[:1], [b"Bewaren"])
    admin.append("Zorg", make_mail("Handelingsplan", "Plan voor groep 7."))


def test_a_folder_briefly_unselectable_converges(admin, dovecot, proxy, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", USERS[USER])
    fill(admin)
    faulty = settings(tmp_path, "faulty", proxy.port)
    scan(faulty)  # night 1, clean
    change(admin)
    proxy.fail_select["Zorg"] = 1
    night2 = scan(faulty)  # Zorg is a blind spot: nothing closed, nothing lost
    assert night2["closed"] == 1  # only the expunged INBOX message
    assert list(states(faulty).values()).count("actief") == 5
    scan(faulty)  # night 3, no faults
    clean = settings(tmp_path, "clean", dovecot.imap_port)
    scan(clean)
    assert_stores_converged(faulty, clean, deleted_meanwhile=True)


def test_a_connection_cut_mid_fetch_converges(admin, dovecot, proxy, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", USERS[USER])
    fill(admin)
    faulty = settings(tmp_path, "faulty", proxy.port)
    proxy.cut_fetch = 1
    first = scan(faulty)
    assert first["item_errors"] >= 1  # the cut cost one item, not the run
    scan(faulty)
    clean = settings(tmp_path, "clean", dovecot.imap_port)
    scan(clean)
    assert_stores_converged(faulty, clean, deleted_meanwhile=True)
