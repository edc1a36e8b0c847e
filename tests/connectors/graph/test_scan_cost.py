"""An unchanged scan of Graph mailboxes through the real pipeline asks the server for delta
pages only (issue 21 item 4): no MIME (``$value``) and no message read, inline and with the
pool; after one new message, exactly one ``$value``. Counted in the fake server's own request
log (tests/services/fake_graph.py), not by our client."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from scanner.config import load_config
from tests.convergence import scan

from .conftest import build_school, connection

MAILBOXES = ["jansen@school.nl", "pietersen@school.nl", "devries@school.nl"]


def mime_reads(fake, since: int) -> int:
    return sum(1 for r in fake.log[since:] if r.path.endswith("/$value"))


@pytest.mark.parametrize("executor", ["inline", "pool"])
def test_an_unchanged_scan_reads_no_message_and_one_new_message_one(fake, certs, tmp_path: Path,
                                                                    executor: str) -> None:
    build_school(fake)
    for n in range(30):
        fake.add_message(MAILBOXES[n % 3], "Inbox/Zorg", f"Bericht {n}", body=f"Leerling {n}, BSN 111222333.",
                         received="2021-03-01T08:00:00Z")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "state_dir": str(tmp_path / "state"), "school": {"name": "Test"},
        "sources": [{"name": "m365", "kind": "graph_mail", "mailboxes": MAILBOXES, **connection(fake, certs)}],
        "executor": {"kind": executor, "workers": 1, "batch_size": 8}}), encoding="utf-8")
    settings = load_config(path)

    first, problems = scan(settings)
    assert problems == [] and first.totals()["analysed"] >= 30
    assert mime_reads(fake, 0) == first.totals()["analysed"]

    start, connections, batches = len(fake.log), fake.connections, len(fake.batches)
    second, problems = scan(settings)
    assert problems == [] and second.totals()["analysed"] == 0
    asked = fake.log[start:]
    assert mime_reads(fake, start) == 0
    # One kept-alive TLS connection and one token for the whole run, not one per folder
    # (counted where the server accepts connections, tests/services/fake_graph.py).
    folders = sum(1 for r in asked if r.path.endswith("/messages/delta"))
    assert folders >= 3 and fake.connections - connections == 1
    assert sum(1 for r in asked if r.path.endswith("/oauth2/v2.0/token")) == 1
    # Only listings: the token, users/folders and one delta round per folder, no message read.
    reads = [r.path for r in asked if "/messages/" in r.path and not r.path.endswith("/messages/delta")]
    assert reads == []
    listing = re.compile(r"/oauth2/|/\.well-known/|/discovery/|/users(/[^/]+)?$|/mailFolders$|/childFolders$"
                         r"|/messages/delta$|/v1\.0/\$batch$")
    assert [r.path for r in asked if not listing.search(r.path)] == []
    # Every folder's delta round went into a JSON batch, 20 to a batch, none alone.
    deltas = [r for r in asked if r.path.endswith("/messages/delta")]
    assert all(r.batched for r in deltas)
    delta_batches = [b for b in fake.batches[batches:] if all(p.endswith("/messages/delta") for p in b)]
    assert len(delta_batches) == -(-folders // 20)
    # The folder listings went into batches too: no Graph request outside a batch.
    assert [r.path for r in asked if r.path.startswith("/v1.0/") and not r.batched] == \
        ["/v1.0/$batch"] * (fake.batch_requests - batches)

    fake.add_message("pietersen@school.nl", "Inbox/Zorg", "Nieuw", body="Een nieuwe ziekmelding.")
    start = len(fake.log)
    third, problems = scan(settings)
    assert problems == [] and third.totals()["analysed"] == 1
    assert mime_reads(fake, start) == 1
