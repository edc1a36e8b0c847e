"""How long does the IMAP full listing take? Prints figures; not a test (no assertions).

Run: .venv/bin/python benchmarks/bench_imap_listing.py [messages]
Starts a throw-away Dovecot, fills one folder with small messages through MULTIAPPEND, then
times a full crawl (metadata only) and the fetch of 200 messages.
"""

from __future__ import annotations

import os
import ssl
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imapclient import IMAPClient

from connectors.imap import ImapConfig, ImapConnector
from scanner.core.model import Seen
from tests.connectors.imap.dovecot_server import USERS, start_dovecot, stop_dovecot

USER = "juf.jansen@school.nl"


def main(count: int) -> None:
    server = start_dovecot(Path(tempfile.mkdtemp(prefix="bench-dovecot-")))
    try:
        context = ssl.create_default_context(cafile=str(server.ca_file))
        admin = IMAPClient("127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=context)
        admin.login(USER, USERS[USER])
        start = time.perf_counter()
        batch = []
        for n in range(count):
            message = EmailMessage()
            message["From"] = "ouder@example.nl"
            message["Subject"] = f"Bericht {n} over groep 5"
            message["Message-ID"] = f"<{n}@bench.example.nl>"
            message.set_content("Beste juf,\n\n" + "Een regel tekst.\n" * 40)
            batch.append(message.as_bytes())
            if len(batch) == 500 or n == count - 1:
                admin.multiappend("INBOX", batch)
                batch = []
        print(f"appended {count} messages in {time.perf_counter() - start:.1f} s")
        admin.logout()

        os.environ["BENCH_IMAP_PASSWORD"] = USERS[USER]
        config = ImapConfig(name="bench", host="127.0.0.1", port=server.imaps_port, ca_file=server.ca_file,
                            username=USER, password={"env": "BENCH_IMAP_PASSWORD"})
        with ImapConnector(config) as connector:
            unit = next(u for u in connector.units() if u.key.endswith("/INBOX"))
            for run in ("first", "second"):
                start = time.perf_counter()
                refs = [e.ref for e in connector.crawl(unit, None) if isinstance(e, Seen)]
                elapsed = time.perf_counter() - start
                print(f"{run} full listing: {len(refs)} messages in {elapsed:.2f} s "
                      f"({len(refs) / elapsed:,.0f} messages/s)")
            start = time.perf_counter()
            size = sum(connector.fetch(ref).size or 0 for ref in refs[:200])
            elapsed = time.perf_counter() - start
            print(f"fetch BODY.PEEK[] of 200 messages: {elapsed:.2f} s ({200 / elapsed:,.0f}/s, {size} bytes)")
    finally:
        stop_dovecot(server)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
